/// Why the plugin host refused or failed something. `description` is the message for users:
/// it names the plugin, the path or the model, and the problem.
public struct PluginError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, for code that reacts to it (the RPC layer maps kinds to status codes).
    public enum Kind: String, Sendable {
        case fileNotFound, notLoadable, missingEntrySymbol, abiMismatch, invalidDescriptor
        case pluginInitFailed, modelLoadFailed, invalidModelInfo, warmupFailed
        case unknownModel, unknownPlugin, modelExists, batchFailed, cancelled, shuttingDown
        /// A relative plugin path or model directory that resolves outside `plugins_dir` or
        /// `models_dir` (see `ConfinedPath`).
        case outsideDirectory
    }
    public let kind: Kind
    public let message: String
    public var description: String { message }

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }
}
