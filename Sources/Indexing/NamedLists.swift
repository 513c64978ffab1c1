import Facts
import CFrontend

/// Lists of entries by name over the whole tree, built once with one pass over the files:
/// the names are numbered by their bytes (no `String` hashing per entry), each share of the
/// files collects its own (name, entry) pairs, and the pairs are then placed, in file
/// order, into one array with an offset per name (no array per name: a tree has hundreds of
/// thousands of names).
struct NamedLists<Entry: Sendable & Equatable>: Sendable {
    /// The names, numbered.
    let names: Names
    /// The entries of name `n` are `entries[offsets[n]..<offsets[n + 1]]`, in file order
    /// (an entry equal to the name's previous one is not added again).
    let offsets: [Int32]
    let entries: [Entry]

    /// One share's pairs: the name's number in the share's own table, and the entry.
    private struct Share: Sendable {
        var names = Names()
        var pairs: [(Int32, Entry)] = []
    }

    /// `collect(fileIndex, add)` calls `add(name, hint, entry)` for each entry of a file, in
    /// order; `hint` is a small number that often comes with the same name within the file
    /// (the name's index in the file's string table), or -1: a name seen with its hint
    /// before in the same file is numbered without hashing it again (the name is compared,
    /// so a wrong hint costs only the lookup);
    /// `bound(fileIndex)` is at least how many entries it adds for that file (each share's
    /// pairs are reserved at once, so they never grow by doubling: the pairs of a whole
    /// tree are tens of megabytes).
    init(files: [FileFacts], jobs: Int, bound: @escaping @Sendable (Int) -> Int,
         collect: @escaping @Sendable (Int, (String, Int32, Entry) -> Void) -> Void) {
        let count = max(1, min(jobs, files.count))
        var shares = parallelMap(count: count, jobs: jobs, makeState: { () }) { s, _ -> Share in
            var share = Share()
            share.pairs.reserveCapacity(shareRange(s, of: files.count, shares: count).reduce(0) { $0 + bound($1) })
            // Per name, where its last pair is (to drop an entry repeating it).
            var last: [Int32] = []
            // Per hint: the file it was last seen in, its name and the name's number.
            var hinted: [(file: Int, name: String, number: Int32)] = []
            for fi in shareRange(s, of: files.count, shares: count) {
                collect(fi) { name, hint, entry in
                    let n: Int32
                    if hint >= 0 && hint < 1 << 20 {
                        let h = Int(hint)
                        while hinted.count <= h { hinted.append((-1, "", -1)) }
                        if hinted[h].file == fi && hinted[h].name == name {
                            n = hinted[h].number
                        } else {
                            n = share.names.intern(name)
                            hinted[h] = (fi, name, n)
                        }
                    } else {
                        n = share.names.intern(name)
                    }
                    while last.count <= Int(n) { last.append(-1) }
                    let previous = last[Int(n)]
                    if previous >= 0 && share.pairs[Int(previous)].1 == entry { return }
                    last[Int(n)] = Int32(share.pairs.count)
                    share.pairs.append((n, entry))
                }
            }
            return share
        }
        // One numbering: the first share's (its own numbers stay), then each other share's
        // names interned into it.
        var names = shares.first?.names ?? Names()
        var renumbered: [[Int32]] = []
        for (k, share) in shares.enumerated() {
            let strings = share.names.strings
            renumbered.append(k == 0 ? strings.indices.map { Int32($0) } : strings.indices.map { names.intern(strings[$0]) })
        }
        // Counting sort by name; shares are contiguous runs of files, taken in order.
        let nameCount = names.strings.count
        var counts = [Int32](repeating: 0, count: nameCount + 1)
        for (k, share) in shares.enumerated() {
            for (n, _) in share.pairs { counts[Int(renumbered[k][Int(n)]) + 1] += 1 }
        }
        for n in 0..<nameCount { counts[n + 1] += counts[n] }
        var next = counts
        let total = Int(counts[nameCount])
        // Every slot is written exactly once: the counts add up to the pairs.
        // Each share's pairs are freed once placed.
        self.entries = [Entry](unsafeUninitializedCapacity: total) { buffer, initialized in
            for k in shares.indices {
                for (n, entry) in shares[k].pairs {
                    let g = Int(renumbered[k][Int(n)])
                    (buffer.baseAddress! + Int(next[g])).initialize(to: entry)
                    next[g] += 1
                }
                shares[k].pairs = []
            }
            initialized = total
        }
        self.names = names
        self.offsets = counts
    }

    /// The entries of name number `n`.
    func list(number n: Int) -> ArraySlice<Entry> {
        guard n >= 0, n + 1 < offsets.count else { return [] }
        return entries[Int(offsets[n])..<Int(offsets[n + 1])]
    }

    /// The entries of `name`, in file order.
    func list(_ name: String) -> ArraySlice<Entry> {
        guard let n = names.lookup(name) else { return [] }
        return list(number: Int(n))
    }

    /// How many names are numbered (some with no entry: the keywords).
    var nameCount: Int { offsets.count - 1 }
}
