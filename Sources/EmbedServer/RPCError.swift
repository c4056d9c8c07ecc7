import EmbedPluginHost
import EmbedWire

/// A failed call: a gRPC status code and a message for the client.
public struct RPCError: Error, Sendable, Equatable {
    public var code: StatusCode
    public var message: String

    public init(_ code: StatusCode, _ message: String) {
        self.code = code
        self.message = message
    }

    /// Maps a plugin-host error to the status a client should see.
    public init(_ e: PluginError) {
        let code: StatusCode
        switch e.kind {
        case .unknownModel, .unknownPlugin, .fileNotFound: code = .notFound
        case .modelExists: code = .alreadyExists
        case .outsideDirectory: code = .invalidArgument
        case .cancelled: code = .cancelled
        case .shuttingDown: code = .unavailable
        case .notLoadable, .missingEntrySymbol, .abiMismatch, .invalidDescriptor, .pluginInitFailed,
             .modelLoadFailed, .invalidModelInfo, .warmupFailed:
            code = .failedPrecondition
        case .batchFailed: code = .internal
        }
        self.init(code, e.message)
    }
}
