@preconcurrency import Glibc

/// Shell-style path patterns (`*`, `?`, `[...]`) expanded by `glob(3)`, for tools that accept a
/// quoted pattern the shell did not expand.
public enum PathGlob {
    /// Whether `pattern` contains a glob metacharacter (`*`, `?` or `[`).
    public static func isPattern(_ pattern: String) -> Bool {
        pattern.utf8.contains { $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "[") }
    }

    /// The paths matching `pattern`, sorted (`glob(3)` without `GLOB_NOCHECK`: no match gives
    /// an empty list). Unreadable directories are skipped, as the shell does.
    /// - Throws: `ENOMEM` when glob itself fails (out of memory).
    public static func expand(_ pattern: String) throws(Errno) -> [String] {
        var g = glob_t()
        defer { globfree(&g) }
        let rc = Glibc.glob(pattern, 0, nil, &g)
        if rc == GLOB_NOMATCH || rc == GLOB_ABORTED { return [] }
        guard rc == 0 else { throw Errno(rawValue: ENOMEM) }
        var out: [String] = []
        out.reserveCapacity(Int(g.gl_pathc))
        for i in 0..<Int(g.gl_pathc) {
            if let p = g.gl_pathv[i] { out.append(String(cString: p)) }
        }
        return out
    }
}
