/// Severity of a message passed to the store's log callback.
public enum LogLevel: String, Sendable, Comparable {
    case debug, info, warning, error

    private var rank: Int {
        switch self { case .debug: 0; case .info: 1; case .warning: 2; case .error: 3 }
    }

    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rank < b.rank }
}

/// Where the store reports what it does (recovery, checkpoints, cut log tails).
public typealias StoreLogger = @Sendable (LogLevel, String) -> Void
