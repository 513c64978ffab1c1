import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import Indexing

/// `runTaskGraph`: each task starts after the tasks it reads, sees their results, and the
/// results come back in task order.
@Suite struct TaskGraphTests {
    @Test func tasksSeeTheirDependenciesResultsAndComeBackInOrder() {
        // 0 ← 1, 0 ← 2, {1, 2} ← 3, 4 alone, {3, 4} ← 5.
        let deps = [[], [0], [0], [1, 2], [], [3, 4]]
        for _ in 0..<5 {
            let results = runTaskGraph(count: deps.count, dependencies: deps) { k, done -> Int in
                // The first task is slow: a task that did not wait for it would miss its result.
                if k == 0 { usleep(20_000) }
                // A parallel loop inside a task runs (on GCD, beside the other tasks).
                let inner = parallelMap(count: 50, jobs: 2, makeState: { () }) { i, _ in i }.reduce(0, +)
                // A dependency's result missing would cost a million.
                return k * 10_000 + inner + deps[k].reduce(0) { $0 + (done[$1].map { $0 % 10_000 + 1 } ?? -1_000_000) }
            }
            #expect(results == [1225, 12451, 22451, 36129, 41225, 58581])
        }
    }

    @Test func aDependencyOnALaterTaskIsIgnored() {
        let results = runTaskGraph(count: 2, dependencies: [[1], []]) { k, _ in k + 1 }
        #expect(results == [1, 2])
    }
}
