import CEmbedABI
import EmbedSys
import Synchronization

/// One loaded plugin image: the dlopen'd library, its validated descriptor, and the plugin
/// state its `init` returned.
///
/// Lifecycle calls (init, load_model, release_model, finalize) are serialised by `lifecycle`,
/// as the ABI promises plugins. An image is finalized when its last model is released and it
/// is not pinned; it is then `dlclose`d only if it declares `EMBEDD_PLUGIN_UNLOADABLE` — Swift
/// images are kept mapped for the life of the process (see docs/plugin-abi.md, "Old images").
public final class PluginImage: @unchecked Sendable {
    /// The path the user named (after `realpath`).
    public let path: String
    /// The path actually dlopen'd: `path`, or a private copy when `path` changed on disk while
    /// an older build of it was already loaded (dlopen would return the cached old image).
    public let loadedPath: String
    /// FNV-1a 64 of the file's bytes: two images with equal hashes are the same build.
    public let contentHash: UInt64
    /// From the descriptor.
    public let name: String, version: String, summary: String
    public let abiMajor: UInt16, abiMinor: UInt16
    /// Whether the image may be dlclosed after finalize.
    public let unloadable: Bool

    let descriptor: UnsafePointer<embedd_plugin_descriptor>
    private let library: DynamicLibrary
    private let hostAPI: UnsafeMutablePointer<embedd_host_api>
    private let logContext: Unmanaged<LogContext>
    private let log: LogSink

    private struct Lifecycle {
        var pluginState: UnsafeMutableRawPointer?
        var initialized = false
        var liveModels = 0
        var pinned = false
        var closed = false
    }
    private let lifecycle = Mutex(Lifecycle())
    /// `Lifecycle.closed`, readable without `lifecycle`: that mutex is held for the whole of a
    /// plugin's `load_model` (seconds to minutes), and listings (Status, ListPlugins) run on
    /// the event loop, which must not wait for a load. Set under `lifecycle`, with `closed`.
    private let finalized = Atomic<Bool>(false)
    /// Called once the image is finalized (the host drops it from its tables).
    let onFinalize: @Sendable (PluginImage) -> Void

    /// Opens and validates a plugin image. Nothing of the plugin runs except its entry function.
    static func open(path: String, loadedPath: String, contentHash: UInt64, log: @escaping LogSink,
                     services: Composition? = nil, onFinalize: @escaping @Sendable (PluginImage) -> Void) throws(PluginError) -> PluginImage {
        let library: DynamicLibrary
        do { library = try DynamicLibrary.open(loadedPath) } catch {
            throw PluginError(.notLoadable, "cannot load plugin \(path): \(error.message)")
        }
        guard let symbol = library.symbol(named: EMBEDD_PLUGIN_ENTRY_SYMBOL) else {
            library.close()
            throw PluginError(.missingEntrySymbol,
                              "\(path) is not an embedd plugin: it does not export the entry symbol '\(EMBEDD_PLUGIN_ENTRY_SYMBOL)'")
        }
        let entry = unsafeBitCast(symbol, to: embedd_plugin_entry_fn.self)
        guard let descriptor = entry() else {
            library.close()
            throw PluginError(.invalidDescriptor, "plugin \(path): '\(EMBEDD_PLUGIN_ENTRY_SYMBOL)' returned NULL")
        }
        let d = descriptor.pointee
        let host = "\(EMBEDD_ABI_VERSION_MAJOR).\(EMBEDD_ABI_VERSION_MINOR)"
        guard d.abi_major == EMBEDD_ABI_VERSION_MAJOR && UInt32(d.abi_minor) <= EMBEDD_ABI_VERSION_MINOR else {
            // Unloading is safe here only for images that never ran code we cannot undo; the
            // entry function is plain, but an incompatible Swift image may still have
            // registered metadata, so keep it mapped.
            library.leak()
            throw PluginError(.abiMismatch,
                              "plugin \(path) was built for embedd plugin ABI \(d.abi_major).\(d.abi_minor), but this daemon implements ABI \(host) (it accepts major \(EMBEDD_ABI_VERSION_MAJOR), minor 0...\(EMBEDD_ABI_VERSION_MINOR))")
        }
        var missing: [String] = []
        // The ABI 1.0 fields end with `release_model`: a plugin of any 1.x minor covers them,
        // and fields a later minor adds must be read only when its struct_size covers them
        // (comparing with this build's full struct size would refuse every older plugin).
        let descriptor10 = MemoryLayout<embedd_plugin_descriptor>.offset(of: \.release_model)! + MemoryLayout<UnsafeRawPointer>.size
        if d.struct_size < UInt32(descriptor10) { missing.append("struct_size (\(d.struct_size) bytes, ABI 1.0 needs \(descriptor10))") }
        if d.name == nil { missing.append("name") }
        if d.version == nil { missing.append("version") }
        if d.`init` == nil { missing.append("init") }
        if d.finalize == nil { missing.append("finalize") }
        if d.load_model == nil { missing.append("load_model") }
        if d.describe_model == nil { missing.append("describe_model") }
        if d.embed == nil { missing.append("embed") }
        if d.release_model == nil { missing.append("release_model") }
        guard missing.isEmpty else {
            library.leak()
            throw PluginError(.invalidDescriptor, "plugin \(path) has an invalid descriptor: missing or bad \(missing.joined(separator: ", "))")
        }
        return PluginImage(path: path, loadedPath: loadedPath, contentHash: contentHash, library: library,
                           descriptor: descriptor, log: log, services: services, onFinalize: onFinalize)
    }

    private init(path: String, loadedPath: String, contentHash: UInt64, library: DynamicLibrary,
                 descriptor: UnsafePointer<embedd_plugin_descriptor>, log: @escaping LogSink,
                 services: Composition?, onFinalize: @escaping @Sendable (PluginImage) -> Void) {
        let d = descriptor.pointee
        self.path = path
        self.loadedPath = loadedPath
        self.contentHash = contentHash
        self.library = library
        self.descriptor = descriptor
        self.name = String(cString: d.name)
        self.version = String(cString: d.version)
        self.summary = d.description.map { String(cString: $0) } ?? ""
        self.abiMajor = d.abi_major
        self.abiMinor = d.abi_minor
        self.unloadable = d.flags & EMBEDD_PLUGIN_UNLOADABLE.rawValue != 0
        self.log = log
        self.onFinalize = onFinalize
        let context = Unmanaged.passRetained(LogContext(plugin: String(cString: d.name), sink: log, services: services))
        self.logContext = context
        hostAPI = .allocate(capacity: 1)
        hostAPI.initialize(to: embedd_host_api(
            struct_size: UInt32(MemoryLayout<embedd_host_api>.size),
            abi_major: UInt16(EMBEDD_ABI_VERSION_MAJOR), abi_minor: UInt16(EMBEDD_ABI_VERSION_MINOR),
            host_context: context.toOpaque(), log: pluginLogTrampoline,
            model_dimension: Composition.modelDimensionTrampoline, embed_with: Composition.embedWithTrampoline))
    }

    // `hostAPI` and `logContext` are deliberately never freed (a hundred bytes per image
    // load): an image that is never unmapped (Swift runtimes) may keep a thread, or a copy of
    // the host API, that logs after `finalize` — with them freed that was a use-after-free.

    /// "name version (path)" for messages.
    public var label: String { "plugin '\(name)' \(version) (\(path))" }

    /// Keeps the image initialized even with no models (admin LoadPlugin).
    func pin() throws(PluginError) {
        try lifecycle.withLock { (s: inout Lifecycle) throws(PluginError) in
            try initializeIfNeeded(&s)
            s.pinned = true
        }
    }

    /// Whether the image is pinned.
    var isPinned: Bool { lifecycle.withLock { $0.pinned } }

    /// Drops the pin; finalizes now if no model uses the image.
    func unpin() {
        let finalize = lifecycle.withLock { (s: inout Lifecycle) -> Bool in
            s.pinned = false
            return finalizeIfIdle(&s)
        }
        if finalize { onFinalize(self) }
    }

    private func initializeIfNeeded(_ s: inout Lifecycle) throws(PluginError) {
        guard !s.initialized else { return }
        guard !s.closed else { throw PluginError(.shuttingDown, "\(label) was already unloaded") }
        var error = [CChar](repeating: 0, count: Int(EMBEDD_MESSAGE_CAPACITY))
        var state: UnsafeMutableRawPointer?
        let rc = error.withUnsafeMutableBufferPointer { buf in
            descriptor.pointee.`init`(hostAPI, &state, buf.baseAddress, buf.count)
        }
        guard rc == EMBEDD_OK.rawValue else {
            throw PluginError(.pluginInitFailed, "\(label) failed to initialise (\(EmbedStatusCode(abi: rc))): \(message(error))")
        }
        s.pluginState = state
        s.initialized = true
    }

    /// Loads one model through this plugin. `generation` identifies the instance in the host.
    func loadModel(registeredName: String, directory: String, options: [String: String],
                   generation: Int, onRelease: @escaping @Sendable (LoadedModel) -> Void = { _ in }) throws(PluginError) -> LoadedModel {
        let (result, finalize) = lifecycle.withLock { (s: inout Lifecycle) -> (Result<LoadedModel, PluginError>, Bool) in
            let result = Result { () throws(PluginError) -> LoadedModel in
                try initializeIfNeeded(&s)
                return try loadModelLocked(&s, registeredName: registeredName, directory: directory,
                                           options: options, generation: generation, onRelease: onRelease)
            }
            // A failed first load must not leave an idle plugin initialised forever.
            if case .failure = result { return (result, finalizeIfIdle(&s)) }
            return (result, false)
        }
        if finalize { onFinalize(self) }
        return try result.get()
    }

    private func loadModelLocked(_ s: inout Lifecycle, registeredName: String, directory: String,
                                 options: [String: String], generation: Int,
                                 onRelease: @escaping @Sendable (LoadedModel) -> Void) throws(PluginError) -> LoadedModel {
        // All option strings live in one NUL-separated arena for the duration of the call.
        var arena: [CChar] = []
        var offsets: [(key: Int, value: Int)] = []
        for key in options.keys.sorted() {
            let k = arena.count
            arena += key.utf8CString
            let v = arena.count
            arena += options[key]!.utf8CString
            offsets.append((k, v))
        }
        var error = [CChar](repeating: 0, count: Int(EMBEDD_MESSAGE_CAPACITY))
        var handle: OpaquePointer?
        let state = s.pluginState
        let rc = arena.withUnsafeBufferPointer { strings in
            var cOptions = offsets.map { embedd_option(key: strings.baseAddress! + $0.key, value: strings.baseAddress! + $0.value) }
            return cOptions.withUnsafeMutableBufferPointer { opts in
                error.withUnsafeMutableBufferPointer { buf in
                    descriptor.pointee.load_model(state, directory, opts.baseAddress, opts.count,
                                                  &handle, buf.baseAddress, buf.count)
                }
            }
        }
        guard rc == EMBEDD_OK.rawValue, let handle else {
            let detail = message(error)
            throw PluginError(.modelLoadFailed,
                              "\(label) could not load model '\(registeredName)' from \(directory) (\(EmbedStatusCode(abi: rc))): \(detail.isEmpty ? "no message" : detail)")
        }
        guard let raw = descriptor.pointee.describe_model(handle) else {
            descriptor.pointee.release_model(handle)
            throw PluginError(.invalidModelInfo, "\(label) returned no description for model '\(registeredName)'")
        }
        let info: ModelInfo
        do { info = try ModelInfo(copying: raw) } catch {
            descriptor.pointee.release_model(handle)
            throw PluginError(.invalidModelInfo, "\(label), model '\(registeredName)': \(error.message)")
        }
        s.liveModels += 1
        return LoadedModel(registeredName: registeredName, info: info, image: self, handle: handle,
                           generation: generation, directory: directory, options: options, onRelease: onRelease)
    }

    /// Releases a model (the model guarantees no call is running) and finalizes when idle.
    func release(_ handle: OpaquePointer) {
        let finalize = lifecycle.withLock { (s: inout Lifecycle) -> Bool in
            descriptor.pointee.release_model(handle)
            s.liveModels -= 1
            return finalizeIfIdle(&s)
        }
        if finalize { onFinalize(self) }
    }

    /// Finalizes and unloads (or keeps mapped) when nothing uses the image. Returns whether it did.
    private func finalizeIfIdle(_ s: inout Lifecycle) -> Bool {
        guard s.liveModels == 0, !s.pinned, !s.closed else { return false }
        if s.initialized {
            descriptor.pointee.finalize(s.pluginState)
            s.initialized = false
            s.pluginState = nil
        }
        s.closed = true
        finalized.store(true, ordering: .releasing)
        if unloadable { library.close() } else { library.leak() }
        log(.info, "\(label) finalized\(unloadable ? " and unloaded" : "; its Swift image stays mapped")")
        return true
    }

    /// Whether the image is still usable (not finalized).
    /// Never waits for a lifecycle call in progress (see `finalized`).
    var isOpen: Bool { !finalized.load(ordering: .acquiring) }
}

/// Reads a NUL-terminated message out of a host buffer, repairing invalid UTF-8.
func message(_ buffer: [CChar]) -> String {
    buffer.withUnsafeBufferPointer { buf in
        let bytes = UnsafeRawBufferPointer(buf)
        let end = bytes.firstIndex(of: 0) ?? bytes.count
        return String(decoding: bytes[..<end], as: UTF8.self)
    }
}

/// The object behind `embedd_host_api.host_context`: the log, and the composition calls.
final class LogContext: Sendable {
    let plugin: String
    let sink: LogSink
    /// Nil for images opened without a host that routes (then `embed_with` refuses).
    let services: Composition?
    init(plugin: String, sink: @escaping LogSink, services: Composition?) {
        self.plugin = plugin
        self.sink = sink
        self.services = services
    }
}

/// The C function plugins call to log; forwards to the host's sink with the plugin's name.
private let pluginLogTrampoline: @convention(c) (UnsafeMutableRawPointer?, Int32, UnsafePointer<CChar>?) -> Void = { context, level, text in
    guard let context, let text else { return }
    let box = Unmanaged<LogContext>.fromOpaque(context).takeUnretainedValue()
    let clamped = LogLevel(rawValue: Int(min(max(level, 3), 7))) ?? .info
    box.sink(clamped, "plugin \(box.plugin): \(String(cString: text))")
}
