import EmbedConfig
import EmbedWire
import Synchronization

/// The configured models in configuration order, with their load state. Thread-safe.
final class ModelTable: Sendable {
    private let entries = Mutex<[ModelEntry]>([])

    func snapshot() -> [ModelEntry] { entries.withLock { $0 } }

    func entry(_ name: String) -> ModelEntry? { entries.withLock { $0.first { $0.config.name == name } } }

    func set(_ entry: ModelEntry) {
        entries.withLock { list in
            if let i = list.firstIndex(where: { $0.config.name == entry.config.name }) { list[i] = entry } else { list.append(entry) }
        }
    }

    func update(_ name: String, _ body: (inout ModelEntry) -> Void) {
        entries.withLock { list in
            if let i = list.firstIndex(where: { $0.config.name == name }) { body(&list[i]) }
        }
    }

    func remove(_ name: String) { entries.withLock { $0.removeAll { $0.config.name == name } } }

    /// Reorders to follow `names` (configuration order); others keep their relative order after.
    func reorder(_ names: [String]) {
        entries.withLock { list in
            list.sort { a, b in
                (names.firstIndex(of: a.config.name) ?? Int.max) < (names.firstIndex(of: b.config.name) ?? Int.max)
            }
        }
    }

    /// The default model's name: marked `default`, else the first ready-or-configured one.
    func defaultModel() -> String? {
        entries.withLock { list in list.first(where: \.config.isDefault)?.config.name ?? list.first?.config.name }
    }
}
