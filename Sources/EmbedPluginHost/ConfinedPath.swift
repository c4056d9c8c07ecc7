import EmbedSys

/// Resolves a path named relative to a configured directory (`plugins_dir`, `models_dir`) and
/// refuses it when it ends up outside that directory.
///
/// Why: the daemon runs as its own user with access to its state; a relative plugin or model
/// path in a request or a configuration file must not reach files elsewhere through `..` or a
/// symbolic link (issue 17, defect 11). Absolute paths are not confined: only the configuration
/// file and admin methods (uid 0 or `admin_group`) name plugins and model directories, and they
/// may name any absolute path on purpose.
///
/// The check compares canonical paths (`realpath(3)` of both the directory and the joined path),
/// so a symlink inside the directory that points outside counts as outside. A path whose tail
/// does not exist yet is canonicalised up to its longest existing prefix, and the rest is applied
/// lexically: the kernel would fail on the missing component anyway, so this only decides
/// whether the caller refuses the path as outside or reports the missing file as before.
/// (Whoever can write inside the directory can still swap a link after the check; only admins
/// should be able to write in `plugins_dir` and `models_dir`.)
public enum ConfinedPath {
    /// The canonical form of `relative` joined onto `directory`, if it lies inside `directory`.
    ///
    /// - Parameters:
    ///   - relative: a relative path as given (`libembedd-x.so`, `sub/x.so`, `../x`).
    ///   - directory: the configured directory it is relative to.
    ///   - setting: the configuration key that names `directory`, for the message (`plugins_dir`).
    ///   - what: what the path is, for the message (`plugin path`, `model directory`).
    ///   - given: how the caller named it, quoted, for the message (default: `'relative'`).
    /// - Returns: the canonical absolute path (symlinks resolved), which is what should be opened.
    /// - Throws: `PluginError(.outsideDirectory, …)` naming the path as given, where it resolves
    ///   to, and the directory.
    public static func resolve(_ relative: String, in directory: String, setting: String, what: String,
                               given: String? = nil) throws(PluginError) -> String {
        precondition(!relative.hasPrefix("/"), "absolute paths are not confined")
        let base = canonical(directory)
        let resolved = canonical(directory + "/" + relative)
        guard isInside(resolved, base) else {
            throw PluginError(.outsideDirectory,
                "\(what) \(given ?? "'\(relative)'") resolves to \(resolved), outside \(setting) \(base): a relative \(what) must stay "
                + "inside \(setting) (after following '..' and symbolic links); an admin may give an absolute path instead")
        }
        return resolved
    }

    /// Whether `path` is `directory` or below it; both must be canonical.
    static func isInside(_ path: String, _ directory: String) -> Bool {
        directory == "/" || path == directory || path.hasPrefix(directory + "/")
    }

    /// `realpath(3)` of `path`, or, when its tail does not exist, `realpath` of the longest prefix
    /// that does with the remaining components applied lexically. Relative paths are taken from
    /// the working directory.
    static func canonical(_ path: String) -> String {
        var absolute = path
        if !absolute.hasPrefix("/") { absolute = ((try? FileSystem.realPath(".")) ?? "") + "/" + path }
        if let real = try? FileSystem.realPath(absolute) { return real }
        var head = absolute.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        var tail: [String] = []
        while let last = head.popLast() {
            tail.insert(last, at: 0)
            if head.isEmpty { break }
            if let real = try? FileSystem.realPath("/" + head.joined(separator: "/")) {
                return lexicallyJoined(real, tail)
            }
        }
        return lexicallyJoined("/", tail)
    }

    /// `base` (canonical) followed by `components`, with `.` dropped and `..` removing one
    /// component (never above the root).
    static func lexicallyJoined(_ base: String, _ components: [String]) -> String {
        var parts = base.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        for c in components {
            switch c {
            case ".": continue
            case "..": _ = parts.popLast()
            default: parts.append(c)
            }
        }
        return "/" + parts.joined(separator: "/")
    }
}
