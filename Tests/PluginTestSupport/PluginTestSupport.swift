import EmbedPluginHost
import EmbedSys

/// What the plugin test targets (text, image, clip) share: the built plugin next to the test
/// binary, the repository's folders, one model loaded through the real plugin host, and the
/// cosine their fidelity checks use.
public enum PluginTestSupport {
    /// The build's products folder (where `swift build` put the plugins and this test binary).
    public static let productsDirectory: String = {
        let exe = (try? FileSystem.realPath("/proc/self/exe")) ?? "."
        var dir = String(exe[..<(exe.lastIndex(of: "/") ?? exe.endIndex)])
        while dir.hasSuffix(".xctest") || dir.contains(".xctest/") { dir = String(dir[..<dir.lastIndex(of: "/")!]) }
        return dir
    }()

    /// The repository's root folder.
    public static let repo = String(#filePath).split(separator: "/", omittingEmptySubsequences: false).dropLast(3).joined(separator: "/")

    /// `$EMBEDD_MODELS_DIR`, else `<repo>/models` (tools/fetch-models and the make-golden
    /// scripts fill it).
    public static let modelsDir: String = {
        if let d = Environment.get("EMBEDD_MODELS_DIR"), !d.isEmpty { return d }
        return repo + "/models"
    }()

    /// The path of a built plugin library (`libembedd-text.so`); stops the run when it is missing.
    public static func plugin(_ library: String) -> String {
        let p = productsDirectory + "/" + library
        precondition(FileSystem.exists(p), "\(p) is missing: run `swift build` before `swift test`")
        return p
    }

    /// Loads `plugin` and one model from `folder` through a fresh host (no warm-up call).
    public static func load(plugin: String, folder: String, name: String,
                            options: [String: String] = [:]) throws -> (PluginHost, LoadedModel) {
        let host = PluginHost(pluginsDirectory: nil, log: { _, _ in })
        _ = try host.loadPlugin(path: plugin)
        let m = try host.loadUnregisteredModel(ModelSpec(name: name, plugin: plugin, modelDirectory: folder, options: options), warmUp: false)
        return (host, m)
    }

    /// Cosine of two vectors, in Double.
    public static func cosine(_ a: [Float], _ b: [Float]) -> Double {
        var ab = 0.0, aa = 0.0, bb = 0.0
        for (x, y) in zip(a, b) { ab += Double(x) * Double(y); aa += Double(x) * Double(x); bb += Double(y) * Double(y) }
        return ab / max((aa * bb).squareRoot(), 1e-30)
    }
}

/// A test precondition that failed, with what was found.
public struct TestFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}
