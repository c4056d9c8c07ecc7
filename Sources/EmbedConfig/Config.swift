import EmbedSys

/// The daemon's typed configuration (the schema of etc/embedd/embedd.yaml).
///
/// Every field has a default, so an empty file is a valid configuration. Relative paths in a
/// file are resolved against the directory that holds the file (so a config can travel with
/// its data); relative paths on the command line against the working directory.
public struct Config: Sendable, Equatable {
    public var socket = SocketConfig()
    /// Members of this group (and uid 0) may call admin methods; nil = uid 0 only.
    public var adminGroup: String? = nil
    /// Where the daemon keeps its state (collections, later).
    public var dataDirectory: String = "/var/lib/embedd"
    /// Where plugin libraries (`*.so`) are discovered.
    public var pluginsDirectory: String = "/usr/lib/embedd/plugins"
    /// Base for relative `model_dir` entries.
    public var modelsDirectory: String = "/var/lib/embedd/models"
    public var logLevel: Verbosity = .info
    public var limits = Limits()
    public var batching = Batching()
    public var store = StoreSettings()
    public var models: [ModelConfig] = []
    /// The `http:` section, read by embedd-http (the daemon only validates it).
    public var http = HTTPSettings()
    /// The file this configuration came from (nil for built-in defaults).
    public var sourcePath: String? = nil

    /// The built-in defaults.
    public init() {}

    /// The model used when a request names none: the one marked `default: true`, else the first.
    public var defaultModel: String? {
        models.first(where: \.isDefault)?.name ?? models.first?.name
    }

    /// The absolute model directory of `model` (relative entries live under `modelsDirectory`).
    public func resolvedModelDirectory(_ model: ModelConfig) -> String {
        Config.join(modelsDirectory, model.modelDirectory)
    }

    /// Reads and validates a configuration file.
    /// - Throws: `ConfigError` naming the file, line and column of the first problem.
    public static func load(path: String) throws(ConfigError) -> Config {
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readFile(path, limit: 16 << 20)
        } catch {
            throw ConfigError(file: path, line: 0, column: 0, message: "cannot read the configuration file: \(error)")
        }
        var dir = "."
        if let slash = path.lastIndex(of: "/") { dir = String(path[..<slash]); if dir.isEmpty { dir = "/" } }
        if !dir.hasPrefix("/"), let cwd = try? FileSystem.realPath(".") { dir = join(cwd, dir) }
        var config = try parse(bytes, fileName: path, baseDirectory: dir)
        config.sourcePath = path
        return config
    }

    /// Parses configuration text. Relative paths are resolved against `baseDirectory`.
    public static func parse(_ bytes: [UInt8], fileName: String, baseDirectory: String) throws(ConfigError) -> Config {
        let root = try YAMLParser.parse(bytes, fileName: fileName)
        var decoder = ConfigDecoder(file: fileName, base: baseDirectory)
        return try decoder.decode(root)
    }

    /// Joins `path` onto `base` unless it is absolute; removes `.` components.
    public static func join(_ base: String, _ path: String) -> String {
        if path.hasPrefix("/") { return path }
        var parts = base.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        for c in path.split(separator: "/", omittingEmptySubsequences: true) {
            if c == "." { continue }
            if c == "..", !parts.isEmpty, parts.last != ".." { parts.removeLast(); continue }
            parts.append(String(c))
        }
        return (base.hasPrefix("/") ? "/" : "") + parts.joined(separator: "/")
    }
}
