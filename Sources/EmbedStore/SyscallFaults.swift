import EmbedSys
import Synchronization

/// Test hook in the manner of swift-system's mocking driver, narrowed to the store's one
/// syscall funnel (`io`): makes chosen operations on chosen files fail with a chosen errno, so
/// the paths a full disk (`ENOSPC`, `EDQUOT`) or a failed fsync take can be tested without one.
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
        /// (as when `pwrite` succeeded and the `fdatasync` after it did not).
        var afterCall: Bool
        /// Failures left; `Int.max` until cleared.
        var remaining: Int
    }

    private static let armedRules = Atomic<Int>(0)
    private static let rules = Mutex<[Rule]>([])

    /// Whether any rule is armed (the fast path of `io`).
    static var isArmed: Bool { armedRules.load(ordering: .relaxed) > 0 }

    /// Arms a rule: the next `count` calls of `operation` on a path under `pathPrefix` fail.
    static func inject(_ errno: Errno, on operation: String, under pathPrefix: String, count: Int = .max, afterCall: Bool = false) {
        rules.withLock {
            $0.append(Rule(pathPrefix: pathPrefix, operation: operation, errno: errno, afterCall: afterCall, remaining: count))
            armedRules.store($0.count, ordering: .relaxed)
        }
    }

    /// Disarms every rule under `pathPrefix`.
    static func clear(under pathPrefix: String) {
        rules.withLock {
            $0.removeAll { $0.pathPrefix == pathPrefix }
            armedRules.store($0.count, ordering: .relaxed)
        }
    }

    /// The errno an armed rule makes this call fail with, counting it down; nil to proceed.
    static func failure(_ path: String, _ operation: String, afterCall: Bool) -> Errno? {
        rules.withLock { list -> Errno? in
            guard let i = list.firstIndex(where: { $0.operation == operation && $0.afterCall == afterCall && path.hasPrefix($0.pathPrefix) }) else {
                return nil
            }
            let e = list[i].errno
            if list[i].remaining != .max { list[i].remaining -= 1 }
            if list[i].remaining <= 0 { list.remove(at: i) }
            armedRules.store(list.count, ordering: .relaxed)
            return e
        }
    }
}
