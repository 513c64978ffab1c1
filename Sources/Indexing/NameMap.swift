/// Ids by name over the whole tree (functions, structs, globals, macros, typedefs), in file
/// then declaration order: one dictionary from a name to its run in one array of ids, not
/// an array per name (a tree has about a million of these names).
public struct NameMap<ID: Sendable>: Sendable {
    private let runs: [String: Int32]
    /// The ids of run `k` are `ids[offsets[k]..<offsets[k + 1]]`.
    private let offsets: [Int32]
    private let ids: [ID]

    /// The map of `count(fi)` declarations per file, `name(fi, k)` and `id(fi, k)` reading
    /// declaration `k` of file `fi` in place.
    init(files: Int, _ count: (Int) -> Int, _ name: (Int, Int) -> String, _ id: (Int32, Int32) -> ID) {
        var total = 0
        for fi in 0..<files { total += count(fi) }
        var runs: [String: Int32] = [:]
        // At most one name per declaration: reserved at once, the map never rehashes.
        runs.reserveCapacity(total)
        var runOf: [Int32] = []
        runOf.reserveCapacity(total)
        for fi in 0..<files {
            for k in 0..<count(fi) {
                // One lookup: the slot of a new name is filled with the next run in place.
                let next = Int32(runs.count)
                runOf.append(NameMap.run(of: &runs[name(fi, k), default: next]))
            }
        }
        // Counting sort by run, stable: each run keeps file then declaration order.
        var offsets = [Int32](repeating: 0, count: runs.count + 1)
        for r in runOf { offsets[Int(r) + 1] += 1 }
        for k in 0..<runs.count { offsets[k + 1] += offsets[k] }
        var next = offsets
        // Every slot is written exactly once: the runs' counts add up to the declarations.
        self.ids = [ID](unsafeUninitializedCapacity: total) { buffer, initialized in
            var e = 0
            for fi in 0..<files {
                for k in 0..<count(fi) {
                    let r = Int(runOf[e])
                    (buffer.baseAddress! + Int(next[r])).initialize(to: id(Int32(fi), Int32(k)))
                    next[r] += 1
                    e += 1
                }
            }
            initialized = total
        }
        self.runs = runs
        self.offsets = offsets
    }

    @inline(__always) private static func run(of slot: inout Int32) -> Int32 { slot }

    /// The ids named `name` (nil when none is).
    public subscript(name: String) -> ArraySlice<ID>? {
        guard let k = runs[name] else { return nil }
        return ids[Int(offsets[Int(k)])..<Int(offsets[Int(k) + 1])]
    }

    /// Every name with an id, in no particular order.
    public var names: Dictionary<String, Int32>.Keys { runs.keys }
}
