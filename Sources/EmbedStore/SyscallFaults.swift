import EmbedSys
import Synchronization

/// Test hook in the manner of swift-system's mocking driver, narrowed to the store's one
/// syscall funnel (`io`): a table of injected results per operation and file. A rule makes
/// chosen operations on chosen files fail with a chosen errno, so the paths a full disk
/// (`ENOSPC`, `EDQUOT`) or a failed fsync (`EIO`) take can be tested without one. `EINTR` is
/// different, as in the kernel: the call is interrupted before it does anything and EmbedSys
/// retries it (`InjectedInterrupts` makes the first syscall of the wrapper return `EINTR`), so
/// the operation succeeds; `interruptsRetried` counts the retries, showing the path was taken.
/// Unarmed it costs one relaxed atomic load per syscall.
enum SyscallFaults {
    /// One armed failure.
    struct Rule: Sendable {
        /// Paths that start with this: a test's own directory, since tests run in parallel.
        var pathPrefix: String
        /// `io`'s operation name: "write", "fdatasync", "fsync", "ftruncate", …
        var operation: String
        var errno: Errno
        /// Run the call, then fail: its bytes reach the file but the caller hears an error
        /// (as when `pwrite` succeeded and the `fdatasync` after it did not). Not for `EINTR`.
        var afterCall: Bool
        /// Failures left; `Int.max` until cleared.
        var remaining: Int
    }

    private static let armedRules = Atomic<Int>(0)
    private static let rules = Mutex<[Rule]>([])
    /// Injected `EINTR`s that were retried, by the rule's `pathPrefix`.
    private static let retried = Mutex<[String: Int]>([:])

    /// Whether any rule is armed (the fast path of `io`).
    static var isArmed: Bool { armedRules.load(ordering: .relaxed) > 0 }

    /// Arms a rule: the next `count` calls of `operation` on a path under `pathPrefix` fail
    /// (with `.interrupted`: are interrupted once each, and retried).
    static func inject(_ errno: Errno, on operation: String, under pathPrefix: String, count: Int = .max, afterCall: Bool = false) {
        precondition(!(afterCall && errno == .interrupted), "EINTR interrupts a call before it runs")
        rules.withLock {
            $0.append(Rule(pathPrefix: pathPrefix, operation: operation, errno: errno, afterCall: afterCall, remaining: count))
            armedRules.store($0.count, ordering: .relaxed)
        }
    }

    /// Disarms every rule under `pathPrefix` and forgets its count of retried interrupts.
    static func clear(under pathPrefix: String) {
        rules.withLock {
            $0.removeAll { $0.pathPrefix == pathPrefix }
            armedRules.store($0.count, ordering: .relaxed)
        }
        _ = retried.withLock { $0.removeValue(forKey: pathPrefix) }
    }

    /// How many injected `EINTR`s under `pathPrefix` were retried so far.
    static func interruptsRetried(under pathPrefix: String) -> Int {
        retried.withLock { $0[pathPrefix] ?? 0 }
    }

    /// The rule this call matches, counting it down; nil to proceed.
    static func failure(_ path: String, _ operation: String, afterCall: Bool) -> Rule? {
        rules.withLock { list -> Rule? in
            guard let i = list.firstIndex(where: { $0.operation == operation && $0.afterCall == afterCall && path.hasPrefix($0.pathPrefix) }) else {
                return nil
            }
            let rule = list[i]
            if list[i].remaining != .max { list[i].remaining -= 1 }
            if list[i].remaining <= 0 { list.remove(at: i) }
            armedRules.store(list.count, ordering: .relaxed)
            return rule
        }
    }

    /// Runs `body`, the wrapper an `EINTR` rule matched, with its first retried syscall
    /// interrupted; counts the retry under the rule's prefix.
    static func interrupting<T>(_ rule: Rule, _ body: () throws(Errno) -> T) throws(Errno) -> T {
        let (result, injected) = try InjectedInterrupts.during(1, body)
        if injected > 0 { retried.withLock { $0[rule.pathPrefix, default: 0] += injected } }
        return result
    }
}
