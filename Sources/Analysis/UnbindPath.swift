import Facts
import Indexing

/// What a driver runs when it is unbound: the functions in the unbind slots of its driver
/// tables (`.remove`, `.disconnect`, …) and the functions it hands to `devm_add_action()`,
/// with everything they call. A subsystem's protection (a completion or wait in its
/// unregister function) only helps a driver whose unbind path calls that unregister.
public struct UnbindPath {
    /// Entry points of the unbind path (the slots' and devm actions' functions).
    public let entries: [FunctionID]
    /// Every function reached from the entries (entries included), at most `limit`.
    public let reached: [FunctionID]
    /// The files that make up the driver: its own, or its directory's when it is split.
    public let files: [Int32]

    static let limit = 400
    static let depth = 5

    /// The unbind path of the driver in `file`: the entries that file declares; when it
    /// declares none and no probe either (a driver split over several files), those of its
    /// directory. A file whose driver table has a `.probe` and no `.remove` is a driver
    /// with no unbind callback, not a part of its neighbours.
    public init(driverFile file: Int32, resolver: Resolver) {
        let index = resolver.index
        var entryNames = Self.entryNames(in: [file], index: index)
        var files = [file]
        if entryNames.isEmpty && !Self.declaresProbe(index.files[Int(file)]) {
            let dir = TreeIndex.directory(of: index.path(file))
            files = index.filesByDirectory[dir] ?? []
            entryNames = Self.entryNames(in: files, index: index)
        }
        self.files = files
        var entries: [FunctionID] = []
        for (name, fi) in entryNames {
            if let id = resolver.function(named: name, from: fi), !entries.contains(id) { entries.append(id) }
        }
        self.entries = entries
        var seen = Set(entries)
        var frontier = entries
        var reached = entries
        for _ in 0..<Self.depth where !frontier.isEmpty && reached.count < Self.limit {
            var next: [FunctionID] = []
            for id in frontier {
                for c in index.function(id).calls where !c.callee.isEmpty {
                    guard let g = resolver.function(named: c.callee, from: id.file), seen.insert(g).inserted else { continue }
                    next.append(g)
                    reached.append(g)
                    if reached.count >= Self.limit { break }
                }
            }
            frontier = next
        }
        self.reached = reached
    }

    /// Whether a static table of the file names a `.probe` (a driver of its own).
    public static func declaresProbe(_ f: FileFacts) -> Bool {
        f.globals.contains { g in g.designated.contains { v in !v.value.isEmpty && (v.path == "probe" || v.path.hasSuffix(".probe")) } }
    }

    /// Functions named in unbind slots of the files' static tables or passed to devm actions.
    static func entryNames(in files: [Int32], index: TreeIndex) -> [(String, Int32)] {
        var entryNames: [(String, Int32)] = []
        for fi in files {
            let f = index.files[Int(fi)]
            for g in f.globals {
                for v in g.designated where !v.value.isEmpty {
                    let slot = v.path.split(separator: ".").last.map(String.init) ?? v.path
                    if DriverCore.isUnbindSlot(slot) { entryNames.append((v.value, fi)) }
                }
            }
            for fn in f.functions {
                // A library's exported teardown (called from the glue drivers' unbind) is on
                // its users' unbind path; an exported function that allocates device-managed
                // memory is a probe, not a teardown.
                if index.exported.contains(fn.name), !fn.calls.contains(where: { DriverCore.allocators[$0.callee]?.isDeviceManaged == true }) {
                    entryNames.append((fn.name, fi))
                }
                for c in fn.calls {
                    guard let k = DriverCore.devmActions[c.callee] else { continue }
                    let args = Array(fn.exprs.arguments(c.node))
                    guard k < args.count else { continue }
                    let a = fn.exprs[fn.exprs.strippingCasts(args[k])]
                    if a.kind == .identifier { entryNames.append((fn.exprs.text(a), fi)) }
                }
            }
        }
        return entryNames
    }

    /// The first call on the unbind path to one of `names`, as (function, line).
    public func firstCall(to names: Set<String>, index: TreeIndex) -> (FunctionID, Int32)? {
        for id in reached {
            if let c = index.function(id).calls.first(where: { names.contains($0.callee) }) { return (id, c.line) }
        }
        return nil
    }
}
