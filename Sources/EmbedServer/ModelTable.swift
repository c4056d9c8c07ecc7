import EmbedConfig
import EmbedPluginHost
import EmbedWire
import Synchronization

/// The configured models in configuration order, with their load state, and the calls waiting
/// for a model that is still loading. Thread-safe.
final class ModelTable: Sendable {
    /// A call parked until its model's load ends (`whenSettled`).
    private struct Waiter {
        let deadline: UInt64
        let cancellation: CancellationFlag
        let resume: @Sendable () -> Void
    }

    private struct State {
        var list: [ModelEntry] = []
        var waiters: [String: [Waiter]] = [:]

        /// Takes the waiters of every model that is no longer loading (or gone).
        mutating func settledWaiters() -> [Waiter] {
            var out: [Waiter] = []
            for (name, w) in waiters where !list.contains(where: { $0.config.name == name && $0.state == .loading }) {
                out += w
                waiters[name] = nil
            }
            return out
        }
    }
    private let state = Mutex(State())

    func snapshot() -> [ModelEntry] { state.withLock { $0.list } }

    func entry(_ name: String) -> ModelEntry? { state.withLock { $0.list.first { $0.config.name == name } } }

    func set(_ entry: ModelEntry) {
        changing { list in
            if let i = list.firstIndex(where: { $0.config.name == entry.config.name }) { list[i] = entry } else { list.append(entry) }
        }
    }

    func update(_ name: String, _ body: (inout ModelEntry) -> Void) {
        changing { list in
            if let i = list.firstIndex(where: { $0.config.name == name }) { body(&list[i]) }
        }
    }

    func remove(_ name: String) { changing { $0.removeAll { $0.config.name == name } } }

    /// Applies a change; calls waiting for a model whose load has ended (ready, failed, or
    /// removed) resume, outside the lock, on this thread (the admin thread that loaded it).
    private func changing(_ body: (inout [ModelEntry]) -> Void) {
        let resumed = state.withLock { s in
            body(&s.list)
            return s.waiters.isEmpty ? [] : s.settledWaiters()
        }
        for w in resumed { w.resume() }
    }

    /// Parks a call until model `name` has finished loading, when it is loading now: `resume`
    /// runs once the load ends (the call then finds the model ready, or failed with its reason).
    /// - Returns: false, without keeping `resume`, when the model is not loading (or not
    ///   configured): the caller goes on at once.
    func whenSettled(_ name: String, deadline: UInt64, cancellation: CancellationFlag, _ resume: @escaping @Sendable () -> Void) -> Bool {
        state.withLock { s in
            guard s.list.contains(where: { $0.config.name == name && $0.state == .loading }) else { return false }
            s.waiters[name, default: []].append(Waiter(deadline: deadline, cancellation: cancellation, resume: resume))
            return true
        }
    }

    /// Drops parked calls whose deadline passed or that were cancelled (the server has answered
    /// them already): what they hold — their request, their passed files — goes with them
    /// instead of waiting for a load that may take minutes.
    func dropExpiredWaiters(now: UInt64) {
        let dropped: [Waiter] = state.withLock { s in
            var out: [Waiter] = []
            for (name, list) in s.waiters {
                let (gone, kept) = (list.filter { $0.deadline <= now || $0.cancellation.isCancelled },
                                    list.filter { $0.deadline > now && !$0.cancellation.isCancelled })
                out += gone
                s.waiters[name] = kept.isEmpty ? nil : kept
            }
            return out
        }
        _ = dropped  // released here, outside the lock (closing passed files may take a moment)
    }

    /// Reorders to follow `names` (configuration order); others keep their relative order after.
    func reorder(_ names: [String]) {
        state.withLock { s in
            s.list.sort { a, b in
                (names.firstIndex(of: a.config.name) ?? Int.max) < (names.firstIndex(of: b.config.name) ?? Int.max)
            }
        }
    }

    /// The default model's name: marked `default`, else the first ready-or-configured one.
    func defaultModel() -> String? {
        state.withLock { s in s.list.first(where: \.config.isDefault)?.config.name ?? s.list.first?.config.name }
    }
}
