import CEmbedABI

/// A plugin written on the kit: its descriptor identity, its start (`init`) and how it loads a
/// model. The kit supplies everything that crosses the C ABI — the descriptor, the
/// `@convention(c)` trampolines, the host-API copy, handle boxing, option and error buffers.
///
/// The plugin target defines the one exported symbol itself (a `.dynamic` product exports only
/// it, see plugins/exports.map), building the descriptor from its type in one line:
///
///     nonisolated(unsafe) private let descriptor = PluginDescriptor.make(for: MyPlugin.self)
///     @_cdecl("embedd_plugin_entry")
///     public func embedd_plugin_entry() -> UnsafePointer<embedd_plugin_descriptor> { descriptor }
///
/// The instance lives from `init` to `finalize` (the ABI's plugin lifetime); the host calls
/// `init(host:)`, `loadModel` and releases from one thread at a time.
package protocol EmbedPlugin: AnyObject {
    associatedtype Model: EmbedPluginModel

    /// The short name configs use ("text", "image", …); the descriptor's `name`.
    static var name: String { get }
    /// The plugin's version ("1.0.0"); the descriptor's `version`.
    static var version: String { get }
    /// One line for humans; the descriptor's `description`.
    static var summary: String { get }

    /// Starts the plugin (`init`); the ABI major was already checked against the host's.
    init(host: PluginHost) throws(PluginError)

    /// Loads one model (`load_model`) from `directory` (trailing slashes removed) with the
    /// model's `key=value` options in configuration order. Throw `EMBEDD_ERR_OPTIONS` for bad
    /// options, `EMBEDD_ERR_MODEL` for a bad directory.
    func loadModel(directory: String, options: [(key: String, value: String)]) throws(PluginError) -> Model
}

/// One loaded model (`load_model` … `release_model`): released when the host releases it.
package protocol EmbedPluginModel: AnyObject {
    /// What the model is; read once after `loadModel`, kept as C data until release.
    var modelDescription: ModelDescription { get }

    /// Embeds one batch. The kit has already checked the whole call (non-empty, non-NULL
    /// buffers, `count ≤ max_batch`, flag not raised). Write each row with `batch.output(row:)`,
    /// fail single inputs with `batch.fail`, and throw only when the whole call fails
    /// (`PluginError.cancelled` when the flag was seen). Runs concurrently on one model only
    /// when the description says `concurrent`.
    func embed(_ batch: EmbedBatch) throws(PluginError)
}
