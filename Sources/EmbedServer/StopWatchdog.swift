import EmbedSys
import Glibc

/// Bounds how long the daemon takes to stop. Armed when SIGTERM/SIGINT starts the drain, it
/// ends the process with status 1 if the stop has not finished within `limits.stop_timeout`:
/// a plugin call that never returns (it ignores cancellation) would otherwise hold the stop —
/// joining that model's batcher thread — until systemd's SIGKILL. Exiting then loses nothing
/// that was acknowledged: every acknowledged write is already fsync'd in its collection's
/// write-ahead log, which the next start replays.
final class StopWatchdog: @unchecked Sendable {
    // Invariant: `step`, `armed` and `finished` are only touched under `lock`.
    private let lock = ConditionLock()
    private var step = "draining (calls in flight, then the server's worker threads)"
    private var armed = false
    private var finished = false
    private let log: Logger

    init(log: Logger) { self.log = log }

    /// Starts the clock (once; later calls do nothing).
    func arm(seconds: Double) {
        let start = lock.withLock { () -> Bool in
            defer { armed = true }
            return !armed
        }
        guard start else { return }
        let deadline = Clock.monotonicNanoseconds() + UInt64(seconds * 1e9)
        do {
            try OSThread.detach { [self] in
                let stuck: String? = lock.withLock {
                    while !finished {
                        let now = Clock.monotonicNanoseconds()
                        if now >= deadline { return step }
                        lock.wait(seconds: Double(deadline - now) / 1e9)
                    }
                    return nil
                }
                guard let stuck else { return }
                log.error("stop did not finish within limits.stop_timeout (\(Self.format(seconds))): still \(stuck); exiting now (acknowledged writes are in the write-ahead logs and are replayed at the next start)")
                _exit(1)
            }
        } catch {
            log.warning("cannot start the stop watchdog (\(error)): the stop is not bounded")
        }
    }

    /// Names the step the stop is in (for the message if it runs out of time).
    func enter(_ what: String) { lock.withLock { step = what } }

    /// The stop finished: the watchdog ends without acting.
    func finish() {
        lock.withLock {
            finished = true
            lock.broadcast()
        }
    }

    private static func format(_ s: Double) -> String {
        s == s.rounded() ? "\(Int(s)) s" : "\(s) s"
    }
}
