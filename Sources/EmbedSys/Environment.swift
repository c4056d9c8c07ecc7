@preconcurrency import Glibc

/// The process environment (`getenv(3)`).
public enum Environment {
    /// The value of `name`, or nil when unset.
    public static func get(_ name: String) -> String? {
        guard let v = getenv(name) else { return nil }
        return String(cString: v)
    }
}
