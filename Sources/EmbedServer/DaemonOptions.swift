import EmbedConfig

/// The command line of `embedd`.
public struct DaemonOptions: Sendable, Equatable {
    public var configPath: String?
    public var checkConfigPath: String?
    public var overrides = ConfigOverrides()
    public var showHelp = false
    public var showVersion = false

    public static let usage = """
    Usage: embedd [OPTIONS]
           embedd --check-config FILE

    The embedd daemon: serves embedding models over a Unix socket.

    Options:
      --config FILE        configuration file (default: /etc/embedd/embedd.yaml if it exists)
      --socket PATH        listen on this socket (overrides socket.path)
      --data-dir DIR       state directory (overrides data_dir)
      --plugins-dir DIR    plugin directory (overrides plugins_dir)
      --models-dir DIR     base of relative model directories (overrides models_dir)
      --log-level LEVEL    error, warning, notice, info or debug (overrides log_level)
      --check-config FILE  validate FILE and exit: 0 if valid, 1 with FILE:LINE:COLUMN: message if not
      --version            print the version
      -h, --help           print this help

    Signals: SIGHUP reloads the configuration and hot-swaps models; SIGTERM drains and exits 0.
    Under systemd: Type=notify (READY=1, RELOADING=1, STOPPING=1, WATCHDOG=1), socket activation.
    """

    public init() {}

    /// Parses `arguments` (without argv[0]); throws a usage message.
    public init(arguments rawArguments: [String]) throws(UsageError) {
        // Accept --flag=value too: split it into two arguments first.
        var arguments: [String] = []
        for a in rawArguments {
            if a.hasPrefix("--"), let eq = a.firstIndex(of: "=") {
                arguments.append(String(a[..<eq]))
                arguments.append(String(a[a.index(after: eq)...]))
            } else {
                arguments.append(a)
            }
        }
        var i = 0
        func value(_ flag: String) throws(UsageError) -> String {
            i += 1
            guard i < arguments.count, !arguments[i].isEmpty else { throw UsageError("\(flag) needs a value") }
            return arguments[i]
        }
        while i < arguments.count {
            let arg = arguments[i]
            switch arg {
            case "--config": configPath = try value(arg)
            case "--check-config": checkConfigPath = try value(arg)
            case "--socket": overrides.socketPath = try value(arg)
            case "--data-dir": overrides.dataDirectory = try value(arg)
            case "--plugins-dir": overrides.pluginsDirectory = try value(arg)
            case "--models-dir": overrides.modelsDirectory = try value(arg)
            case "--log-level":
                let v = try value(arg)
                guard let level = Verbosity(name: v) else {
                    throw UsageError("--log-level must be error, warning, notice, info or debug (got \"\(v)\")")
                }
                overrides.logLevel = level
            case "-h", "--help": showHelp = true
            case "--version": showVersion = true
            default: throw UsageError("unknown argument \"\(arg)\"")
            }
            i += 1
        }
    }

    /// A command-line mistake.
    public struct UsageError: Error, Sendable, Equatable, CustomStringConvertible {
        public let message: String
        public init(_ message: String) { self.message = message }
        public var description: String { message }
    }
}
