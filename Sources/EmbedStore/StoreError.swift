import EmbedSys

/// Every failure the store reports. Each case names the thing that is wrong (a file, a key,
/// an argument) so the message alone tells an operator what to fix.
public enum StoreError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A caller passed something unusable (wrong dimension, bad name, invalid JSON…).
    case invalidArgument(String)
    /// The named collection does not exist.
    case collectionNotFound(String)
    /// A collection with this name already exists.
    case collectionExists(String)
    /// Another process (or another open in this one) holds the collection.
    case collectionLocked(String)
    /// A file is damaged or inconsistent; `file` is its path.
    case corrupt(file: String, detail: String)
    /// A system call failed on `path`.
    case io(path: String, operation: String, errno: Errno)
    /// The collection stopped accepting writes after a failed fsync (its durability can no
    /// longer be promised); reopen it to recover from the log.
    case failed(String)
    /// The collection has been closed or dropped.
    case closed(String)
    /// An answer would exceed the caller's size budget (e.g. a search's `resultBytesLimit`).
    case resultTooLarge(String)
    /// The call cannot be served in the collection's present state (e.g. a mirror's cursor is
    /// behind the retained log, or names no registered mirror); the message says what to do.
    case failedPrecondition(String)

    /// Whether this is a write refused for lack of space (`ENOSPC`, or `EDQUOT` for a quota):
    /// the collection stays usable — reads go on, and writes work again once space is freed.
    public var isOutOfSpace: Bool {
        guard case .io(_, _, let e) = self else { return false }
        return e == .noSpace || e == .diskQuotaExceeded
    }

    public var description: String {
        switch self {
        case .invalidArgument(let m): return "invalid argument: \(m)"
        case .collectionNotFound(let n): return "collection '\(n)' does not exist"
        case .collectionExists(let n): return "collection '\(n)' already exists"
        case .collectionLocked(let n): return "collection '\(n)' is already open (locked by another process or handle)"
        case .corrupt(let f, let d): return "corrupt file \(f): \(d)"
        case .io(let p, let op, let e): return "\(op) \(p): \(e)"
        case .failed(let m): return "collection failed: \(m)"
        case .closed(let n): return "collection '\(n)' is closed"
        case .resultTooLarge(let m): return "result too large: \(m)"
        case .failedPrecondition(let m): return m
        }
    }
}

/// Runs a syscall-wrapping closure and turns its `Errno` into `StoreError.io` naming `path`.
/// Every store syscall passes here, which is where tests inject failures (`SyscallFaults`).
@inline(__always)
func io<T>(_ path: String, _ operation: String, _ body: () throws(Errno) -> T) throws(StoreError) -> T {
    let faults = SyscallFaults.isArmed
    var interrupt: SyscallFaults.Rule?
    if faults, let rule = SyscallFaults.failure(path, operation, afterCall: false) {
        guard rule.errno == .interrupted else { throw StoreError.io(path: path, operation: operation, errno: rule.errno) }
        interrupt = rule
    }
    let result: T
    do {
        if let interrupt { result = try SyscallFaults.interrupting(interrupt, body) } else { result = try body() }
    } catch {
        throw StoreError.io(path: path, operation: operation, errno: error)
    }
    if faults, let rule = SyscallFaults.failure(path, operation, afterCall: true) {
        throw StoreError.io(path: path, operation: operation, errno: rule.errno)
    }
    return result
}
