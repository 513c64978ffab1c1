import Testing
import Foundation
@testable import Facts
@testable import CFrontend
@testable import Indexing
@testable import Analysis
@testable import Findings
@testable import Checks
@testable import Reporting
@testable import Pipeline

/// Runs git in `dir`; fails the test when git fails.
@discardableResult
func git(_ args: [String], in dir: String) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["git", "-C", dir, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false"] + args
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    try #require(p.terminationStatus == 0, "git \(args.joined(separator: " ")) failed")
    return String(decoding: data, as: UTF8.self)
}

func append(_ text: String, to path: String) throws {
    let h = try #require(FileHandle(forWritingAtPath: path))
    h.seekToEndOfFile()
    h.write(Data(text.utf8))
    h.closeFile()
}

@Suite struct PatchModeTests {
    @Test func diffNamesComeFromThePlusPlusPlusLines() {
        let patch = """
            From 1234 Mon Sep 17 00:00:00 2001
            Subject: [PATCH] flash: fix

            ---
             drivers/flash/core.c | 2 +-
            diff --git a/drivers/flash/core.c b/drivers/flash/core.c
            --- a/drivers/flash/core.c
            +++ b/drivers/flash/core.c
            @@ -1,3 +1,3 @@
            --- a/drivers/old.c\t2024-01-01 00:00:00
            +++ /dev/null
            --- /dev/null
            +++ b/drivers/new file.c\t2024-01-01 00:00:00
            """
        #expect(PatchFiles.paths(inDiff: patch) == ["drivers/flash/core.c", "drivers/new file.c", "drivers/old.c"])
        #expect(PatchFiles.paths(inDiff: "just text\n").isEmpty)
    }

    @Test func sinceReportsFindingsTouchingChangedFiles() throws {
        let dir = temporaryTree(kernelFixture)
        defer { removeTree(dir) }
        try git(["init", "-q"], in: dir)
        try git(["add", "-A"], in: dir)
        try git(["commit", "-q", "-m", "first"], in: dir)
        try append("/* second commit */\n", to: dir + "/drivers/misc/dummy.c")
        try git(["commit", "-q", "-a", "-m", "second"], in: dir)

        // Only the driver changed by the second commit.
        let r = try CLI.run(["scan", dir, "--since", "HEAD~1", "--format", "json"])
        #expect(r.status == 1)
        #expect(try bases(r.out) == ["empty-release|drivers/misc/dummy.c|dummy_release||"])
        #expect(r.err.contains("1 changed file"))
        #expect(try CLI.run(["scan", dir, "--since", "HEAD"]).status == 0)

        // An uncommitted change to the core: the drivers whose evidence points at it too.
        try append("/* work tree */\n", to: dir + "/drivers/flash/core.c")
        let core = try CLI.run(["scan", dir, "--since", "HEAD", "--format", "json"])
        let fps = try bases(core.out)
        #expect(fps.contains("devm-embedded-refcount|drivers/flash/chip.c|chip_probe|chip|flash_info"))
        #expect(fps.contains("devm-embedded-refcount|drivers/card/card.c|card_probe|card|flash_info"))
        #expect(!fps.contains { $0.hasPrefix("empty-release") })
        // The path still scopes the report; untracked files count as changed.
        let scoped = try CLI.run(["scan", dir + "/drivers/card", "--since", "HEAD", "--format", "json"])
        #expect(try bases(scoped.out) == ["devm-embedded-refcount|drivers/card/card.c|card_probe|card|flash_info"])
        try "#include <linux/device.h>\nstatic void extra_release(struct device *dev)\n{\n}\nstatic const struct device_type extra_type = { .release = extra_release };\n".write(toFile: dir + "/drivers/misc/extra.c", atomically: true, encoding: .utf8)
        let untracked = try CLI.run(["scan", dir + "/drivers/misc", "--since", "HEAD", "--format", "json"])
        #expect(try bases(untracked.out) == ["empty-release|drivers/misc/extra.c|extra_release||"])
        // No git work tree, or an unknown revision: exit 2 with git's reason.
        let bad = try CLI.run(["scan", dir, "--since", "no-such-rev"])
        #expect(bad.status == 2 && bad.err.contains("no-such-rev"))
        let plain = temporaryTree(kernelFixture)
        defer { removeTree(plain) }
        let nogit = try CLI.run(["scan", plain, "--since", "HEAD"])
        #expect(nogit.status == 2 && nogit.err.contains("--since needs a git work tree"))
    }

    @Test func diffReportsFindingsTouchedByAPatchFile() throws {
        let dir = temporaryTree(kernelFixture)
        defer { removeTree(dir) }
        let patch = dir + "/fix.patch"
        try """
            Subject: [PATCH] flash: core change
            ---
            diff --git a/drivers/flash/core.c b/drivers/flash/core.c
            --- a/drivers/flash/core.c
            +++ b/drivers/flash/core.c
            @@ -1 +1 @@
            -x
            +y
            """.write(toFile: patch, atomically: true, encoding: .utf8)
        let r = try CLI.run(["scan", "--diff", patch, "--format", "json"], in: dir)
        #expect(r.status == 1)
        let fps = try bases(r.out)
        #expect(fps.contains("devm-embedded-refcount|drivers/flash/chip.c|chip_probe|chip|flash_info"))
        #expect(fps.contains("devm-embedded-refcount|drivers/card/card.c|card_probe|card|flash_info"))
        #expect(!fps.contains("empty-release|drivers/misc/dummy.c|dummy_release||"))
        let misc = dir + "/misc.patch"
        try "--- a/drivers/misc/dummy.c\n+++ b/drivers/misc/dummy.c\n@@ -1 +1 @@\n".write(toFile: misc, atomically: true, encoding: .utf8)
        #expect(try bases(try CLI.run(["scan", dir, "--diff", misc, "--format", "json"]).out) == ["empty-release|drivers/misc/dummy.c|dummy_release||"])
        // Not a patch: exit 2 before the analysis.
        let notPatch = try CLI.run(["scan", dir, "--diff", dir + "/Makefile"])
        #expect(notPatch.status == 2 && notPatch.err.contains("is not a patch"))
    }
}
