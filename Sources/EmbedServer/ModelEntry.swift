import EmbedConfig
import EmbedWire

/// What the daemon knows about one configured model, beyond what the plugin host holds:
/// models that failed to load, or are still loading, are not in the host at all.
struct ModelEntry: Sendable {
    var config: ModelConfig
    var directory: String
    var state: EmbedWire.ModelState
    var error: String
    /// The prompts of the generation that serves (read from the folder at each load and swap).
    var prompts = ModelPrompts.empty
}
