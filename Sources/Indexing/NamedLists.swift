import Facts
import CFrontend

/// Lists of entries by name over the whole tree, built once with one pass over the files:
/// the names are numbered by their bytes (no `String` hashing per entry), each share of the
/// files fills its own table, and the shares are merged in file order.
struct NamedLists<Entry: Sendable & Equatable>: Sendable {
    /// The names, numbered.
    let names: Names
    /// Entries by name number, in file order (an entry equal to the list's last is not
    /// added again).
    let lists: [[Entry]]

    /// `collect(fileIndex, add)` calls `add(name, entry)` for each entry of a file, in order.
    init(files: [FileFacts], jobs: Int,
         collect: @escaping @Sendable (Int, (String, Entry) -> Void) -> Void) {
        let shares = max(1, min(jobs, files.count))
        let tables = parallelMap(count: shares, jobs: jobs, makeState: { () }) { s, _ -> (Names, [[Entry]]) in
            var names = Names()
            var lists: [[Entry]] = []
            for fi in shareRange(s, of: files.count, shares: shares) {
                collect(fi) { name, entry in
                    let n = Int(names.intern(name))
                    while lists.count <= n { lists.append([]) }
                    if lists[n].last != entry { lists[n].append(entry) }
                }
            }
            return (names, lists)
        }
        var names = tables.first?.0 ?? Names()
        var lists = tables.first?.1 ?? []
        for (shareNames, shareLists) in tables.dropFirst() {
            for (k, list) in shareLists.enumerated() where !list.isEmpty {
                let n = Int(names.intern(shareNames[Int32(k)]))
                while lists.count <= n { lists.append([]) }
                // The next share's first entry may repeat this share's last (same function).
                for e in list where lists[n].last != e { lists[n].append(e) }
            }
        }
        self.names = names
        self.lists = lists
    }

    /// The entries of `name`, in file order.
    func list(_ name: String) -> [Entry] {
        guard let n = names.lookup(name), Int(n) < lists.count else { return [] }
        return lists[Int(n)]
    }
}
