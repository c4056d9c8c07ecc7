/// Command-line settings that win over the configuration file
/// (`--socket`, `--data-dir`, `--plugins-dir`, `--models-dir`, `--log-level`).
public struct ConfigOverrides: Sendable, Equatable {
    public var socketPath: String?
    public var dataDirectory: String?
    public var pluginsDirectory: String?
    public var modelsDirectory: String?
    public var logLevel: Verbosity?

    /// No overrides.
    public init() {}

    /// Applies the overrides to `config`; relative paths are made absolute against `workingDirectory`.
    public func apply(to config: inout Config, workingDirectory: String) {
        func absolute(_ p: String) -> String { Config.join(workingDirectory, p) }
        if let socketPath { config.socket.path = absolute(socketPath) }
        if let dataDirectory { config.dataDirectory = absolute(dataDirectory) }
        if let pluginsDirectory { config.pluginsDirectory = absolute(pluginsDirectory) }
        if let modelsDirectory { config.modelsDirectory = absolute(modelsDirectory) }
        if let logLevel { config.logLevel = logLevel }
    }
}
