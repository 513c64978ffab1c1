#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs tasks that read one another's results, each on a thread of its own that starts
/// its work as soon as the tasks it depends on are done. The threads are not GCD's
/// workers, so a `parallelMap` inside a task runs at full width (a parallel loop nested in
/// `concurrentPerform` runs on one thread), and tasks that run at the same time fill each
/// other's serial stretches on the cores.
///
/// `dependencies[k]` are the indices of the tasks task `k` reads, all below `k` (tasks come
/// in an order that respects their dependencies; others are ignored); `body(k, done)` gets
/// every result finished so far, those of its dependencies among them. Returns the results
/// in task order: they do not depend on the scheduling.
public func runTaskGraph<T: Sendable>(count: Int, dependencies: [[Int]],
                                      _ body: @escaping @Sendable (Int, [T?]) -> T) -> [T] {
    let board = TaskBoard<T>(count)
    var threads: [pthread_t] = []
    for k in 0..<count {
        let deps = k < dependencies.count ? dependencies[k].filter { $0 >= 0 && $0 < k } : []
        let task = ThreadTask {
            let done = board.wait(for: deps)
            board.finish(k, body(k, done))
        }
        if let thread = startThread(task) { threads.append(thread) } else { task.run() }
    }
    for t in threads { pthread_join(t, nil) }
    return board.results.map { $0! }
}

/// One task's closure, handed to its thread.
private final class ThreadTask: @unchecked Sendable {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}

/// Starts `task` on a new thread with a 16 MB stack (the analyses recurse over expression
/// trees); nil when no thread could be made (the caller then runs it itself).
private func startThread(_ task: ThreadTask) -> pthread_t? {
    var attr = pthread_attr_t()
    pthread_attr_init(&attr)
    defer { pthread_attr_destroy(&attr) }
    pthread_attr_setstacksize(&attr, 16 << 20)
    let context = Unmanaged.passRetained(task).toOpaque()
    #if canImport(Glibc)
    var thread = pthread_t()
    #else
    var thread: pthread_t?
    #endif
    let status = pthread_create(&thread, &attr, { raw in
        guard let raw else { return nil }
        Unmanaged<ThreadTask>.fromOpaque(raw).takeRetainedValue().run()
        return nil
    }, context)
    if status != 0 {
        Unmanaged<ThreadTask>.fromOpaque(context).release()
        return nil
    }
    return thread
}

/// The tasks' results and which are done, guarded by a mutex; waiting threads sleep on
/// a condition until the tasks they read are done.
private final class TaskBoard<T>: @unchecked Sendable {
    var results: [T?]
    private var done: [Bool]
    private var mutex = pthread_mutex_t()
    private var changed = pthread_cond_t()

    init(_ count: Int) {
        results = Array(repeating: nil, count: count)
        done = Array(repeating: false, count: count)
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&changed, nil)
    }

    deinit {
        pthread_cond_destroy(&changed)
        pthread_mutex_destroy(&mutex)
    }

    /// Blocks until every task of `deps` is done; returns the results finished by then.
    func wait(for deps: [Int]) -> [T?] {
        pthread_mutex_lock(&mutex)
        while !deps.allSatisfy({ done[$0] }) { pthread_cond_wait(&changed, &mutex) }
        let snapshot = results
        pthread_mutex_unlock(&mutex)
        return snapshot
    }

    func finish(_ k: Int, _ result: T) {
        pthread_mutex_lock(&mutex)
        results[k] = result
        done[k] = true
        pthread_cond_broadcast(&changed)
        pthread_mutex_unlock(&mutex)
    }
}
