import Subprocess
import Facts
import Indexing
import Analysis
import Findings
import Checks
import Reporting
import Pipeline

/// The few git queries of `scan --since`, run with swift-subprocess.
enum Git {
    /// Why a git query failed, for the user.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs `git ARGS` and returns its standard output; fails with git's own message.
    static func run(_ arguments: [String]) async throws(Failure) -> String {
        do {
            let result = try await Subprocess.run(.name("git"), arguments: Arguments(arguments),
                                                  output: .string(limit: 64 << 20), error: .string(limit: 1 << 20))
            guard result.terminationStatus.isSuccess else {
                let message = result.standardError.split(separator: "\n").first.map(String.init) ?? "git \(arguments.joined(separator: " ")) failed"
                throw Failure(description: message)
            }
            return result.standardOutput
        } catch let f as Failure {
            throw f
        } catch {
            throw Failure(description: "cannot run git: \(error)")
        }
    }

    /// Files changed in the work tree around `path` relative to `revision` (committed,
    /// staged, unstaged and untracked), as canonical absolute paths.
    static func changedFiles(since revision: String, around path: String) async throws(Failure) -> [String] {
        let dir = SourceTree.isDirectory(path) ? path : SourceTree.dirname(path)
        let top: String
        do {
            top = try await run(["-C", dir, "rev-parse", "--show-toplevel"]).split(separator: "\n").first.map(String.init) ?? ""
        } catch {
            throw Failure(description: "--since needs a git work tree: \(path): \(error.description)")
        }
        guard let realTop = ScanScope.realPath(top) else { throw Failure(description: "cannot resolve the work tree \(top)") }
        // `--end-of-options` keeps a revision starting with '-' from being read as an option.
        let diff = try await run(["-C", realTop, "diff", "--name-only", "-z", "--end-of-options", revision, "--"])
        let untracked = try await run(["-C", realTop, "ls-files", "--others", "--exclude-standard", "-z"])
        let names = (diff + untracked).split(separator: "\0").map(String.init)
        return Array(Set(names.map { realTop + "/" + $0 })).sorted()
    }
}
