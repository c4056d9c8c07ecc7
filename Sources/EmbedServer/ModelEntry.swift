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
    /// Where the entry comes from (ModelInfo.source).
    var source: ModelSource = .config
    /// The file that configures it: the configuration file, or its file in models.d.
    var sourceFile: String = ""
    /// Why its file in models.d could not be read: such an entry is listed as failed, so that
    /// `embedctl models` shows the problem, and is never loaded (UnloadModel removes the file).
    var fileError: String? = nil
}

/// Where a model's settings come from.
enum ModelSource: String, Sendable, Equatable {
    /// The configuration file's `models:` list.
    case config
    /// A file in DATA_DIR/models.d written by LoadModel: loaded again at every start.
    case persisted = "models.d"
    /// LoadModel with `temporary`: loaded until the daemon stops.
    case call
}
