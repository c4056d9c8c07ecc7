/// One entry of the `models:` list.
public struct ModelConfig: Sendable, Equatable {
    /// The name clients use (`EmbedRequest.model`).
    public var name: String
    /// Plugin name (as discovered in the plugins directory) or a path to a plugin library.
    public var plugin: String
    /// The model's directory; a relative path is resolved against `models_dir` and must stay
    /// inside it (the daemon checks when it loads the model).
    public var modelDirectory: String
    /// Plugin-specific options, passed through as strings.
    public var options: [String: String]
    /// Whether this is the model used when a request names none.
    public var isDefault: Bool
    /// What happens to a text longer than the model's token window when a call does not say:
    /// true cuts it (and reports the cut), false refuses it with INVALID_ARGUMENT.
    public var truncate: Bool

    /// Creates a model entry.
    public init(name: String, plugin: String, modelDirectory: String, options: [String: String] = [:], isDefault: Bool = false,
                truncate: Bool = true) {
        self.name = name
        self.plugin = plugin
        self.modelDirectory = modelDirectory
        self.options = options
        self.isDefault = isDefault
        self.truncate = truncate
    }
}
