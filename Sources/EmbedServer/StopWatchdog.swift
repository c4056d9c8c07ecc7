import EmbedSys

/// Bounds the parts of the daemon's stop that wait on plugins. Armed when SIGTERM/SIGINT starts
/// the drain, it ends the process with status 1 if the drain and the models' batcher threads
/// have not finished within `limits.stop_timeout`, and again if releasing the models takes that
/// long: a plugin call that never returns (it ignores cancellation) would otherwise hold the stop
/// until systemd's SIGKILL. Closing the vector store is not bounded — a large final checkpoint
/// is slow but healthy. Exiting early loses nothing acknowledged: every acknowledged write is
/// already fsync'd in its collection's write-ahead log, which the next start replays.
final class StopWatchdog: @unchecked Sendable {
    // Invariant: `step` and `generation` are only touched under `lock`; each armed period has
    // its own generation, and a waiter acts only if its generation is still current.
    private let lock = ConditionLock()
    private var step = ""
    private var generation: UInt64 = 0
    private var armed = false
    private let log: Logger

    init(log: Logger) { self.log = log }

    /// Starts a bounded period of `seconds` for `what` (the message names it if time runs
    /// out). Does nothing while a period is armed, so SIGTERM's arm and a later one agree.
    func arm(seconds: Double, _ what: String) {
        let mine: UInt64? = lock.withLock {
            guard !armed else { return nil }
            armed = true
            generation += 1
            step = what
            return generation
        }
        guard let mine else { return }
        let deadline = Clock.monotonicNanoseconds() + UInt64(seconds * 1e9)
        do {
            try OSThread.detach { [self] in
                let stuck: String? = lock.withLock {
                    while generation == mine {
                        let now = Clock.monotonicNanoseconds()
                        if now >= deadline { return step }
                        lock.wait(seconds: Double(deadline - now) / 1e9)
                    }
                    return nil
                }
                guard let stuck else { return }
                log.error("stop did not finish within limits.stop_timeout (\(Self.format(seconds))): still \(stuck); exiting now (acknowledged writes are in the write-ahead logs and are replayed at the next start)")
                Environment.exitImmediately(1)
            }
        } catch {
            log.warning("cannot start the stop watchdog (\(error)): the stop is not bounded")
        }
    }

    /// Names the step the armed period is in (for the message if it runs out of time).
    func enter(_ what: String) { lock.withLock { step = what } }

    /// Ends the armed period: its watchdog thread returns without acting.
    func disarm() {
        lock.withLock {
            armed = false
            generation += 1
            lock.broadcast()
        }
    }

    private static func format(_ s: Double) -> String {
        s == s.rounded() ? "\(Int(s)) s" : "\(s) s"
    }
}
