/// How the daemon's configuration describes one model to load.
public struct ModelSpec: Sendable, Hashable {
    /// The name clients use (e.g. "all-MiniLM-L6-v2").
    public var name: String
    /// A plugin name found in the plugins directory ("text"), or a path to a `.so` (relative:
    /// inside the plugins directory; see `PluginHost.resolve(plugin:)`).
    public var plugin: String
    /// The model directory handed to the plugin.
    public var modelDirectory: String
    /// Plugin options from the config (`threads`, `precision`, ...).
    public var options: [String: String]
    /// Nice steps below the daemon's priority for the threads the plugin starts while the model
    /// loads (its compute threads): the load runs on a thread lowered by this much.
    public var computeNice: Int

    public init(name: String, plugin: String, modelDirectory: String, options: [String: String] = [:], computeNice: Int = 0) {
        self.name = name
        self.plugin = plugin
        self.modelDirectory = modelDirectory
        self.options = options
        self.computeNice = computeNice
    }
}

/// A loaded plugin image, as listed by `PluginHost.plugins()` and discovery.
public struct PluginSummary: Sendable, Hashable {
    public var name: String
    public var version: String
    public var path: String
    /// "major.minor" of the ABI the plugin was built against.
    public var abiVersion: String
    public var description: String
    /// Models currently served by this image.
    public var models: [String]
}

/// A registered model, as listed by `PluginHost.models()`.
public struct ModelSummary: Sendable {
    public var name: String
    public var plugin: PluginSummary
    public var info: ModelInfo
    public var generation: Int
    public var inFlight: Int
    public var spec: ModelSpec
    public var calls: Int, inputs: Int, failedInputs: Int, failedCalls: Int
}

/// Something that happened to a model, kept in a short history (`PluginHost.events()`).
public struct ModelEvent: Sendable, Hashable {
    public enum Kind: String, Sendable { case loaded, swapped, swapFailed, unloaded, released }
    /// Strictly increasing across the host: orders events against each other and against
    /// `EmbedBatch.completedSequence`.
    public var sequence: Int
    public var kind: Kind
    public var model: String
    public var generation: Int
    public var detail: String
}
