import CEmbedABI
import EmbedSys
import Synchronization

/// Loads plugins, registers their models by name, routes embed calls, and hot-swaps models
/// without failing a request.
///
/// Threading: `embed` runs the plugin on the calling thread — call it from dedicated threads,
/// never from Swift concurrency's cooperative pool. Admin operations (load, reload, unload)
/// are serialised by `admin`; routing state lives in `registry`, which is held only for
/// pointer-sized updates, never across plugin code. A swap loads and warms the new instance
/// with no lock held on the serving path, then replaces the registry entry in one step; calls
/// that already entered the old instance finish on it, and it is released after the last one.
public final class PluginHost: Sendable {
    /// Directory scanned for `*.so` plugins (nil: plugins only by path).
    public let pluginsDirectory: String?
    private let log: LogSink
    private let cacheDirectory: String?

    private struct Registry {
        var models: [String: LoadedModel] = [:]
        var specs: [String: ModelSpec] = [:]
        /// Open images by content hash.
        var images: [UInt64: PluginImage] = [:]
        /// Every real path ever dlopen'd and not dlclosed since, with the content hash loaded:
        /// dlopen of such a path returns the cached image, so a changed file must be copied.
        var mappedPaths: [String: UInt64] = [:]
        var nextGeneration = 1
        var events: [ModelEvent] = []
        var shuttingDown = false
    }
    private let registry = Mutex(Registry())
    /// Orders events and call completions against each other (see `ModelEvent.sequence`).
    private let sequence = Atomic<Int>(0)
    private let admin = Mutex(())
    /// Where plugins' `embed_with` calls go (`routeComposedCalls`); nil: straight to `embed`.
    private let composedRoute = Mutex<ComposedRoute?>(nil)

    /// How a plugin's call to embed with another loaded model (ABI 1.1 `embed_with`) reaches
    /// that model: `(model, inputs, cancellation, segments)` → its batch.
    public typealias ComposedRoute = @Sendable (String, [EmbedInput], CancellationFlag?, Bool) throws(PluginError) -> EmbedBatch

    /// - Parameters:
    ///   - pluginsDirectory: where plugin names are resolved (`NAME.so`, `libembedd-NAME.so`).
    ///   - cacheDirectory: where private copies of changed plugin files go (default: a fresh
    ///     directory under `$TMPDIR` or /tmp, created on first need).
    ///   - log: receives every log line, with journald priorities.
    public init(pluginsDirectory: String?, cacheDirectory: String? = nil, log: @escaping LogSink) {
        self.pluginsDirectory = pluginsDirectory
        self.cacheDirectory = cacheDirectory
        self.log = log
    }

    // MARK: Plugins

    /// Opens every `*.so` in the plugins directory and reports each one's descriptor or error.
    /// Images opened here stay pinned (listed by `plugins()`) until their plugin is unloaded.
    public func discoverPlugins() -> [Result<PluginSummary, PluginError>] {
        guard let dir = pluginsDirectory else { return [] }
        let names: [String]
        do { names = try FileSystem.contentsOfDirectory(dir) } catch {
            return [.failure(PluginError(.fileNotFound, "cannot read plugins directory \(dir): \(error)"))]
        }
        // By name relative to the directory, so a symlink that leads outside it is refused
        // like any other relative path (see `resolve(plugin:)`).
        return names.filter { $0.hasSuffix(".so") }.map { name in
            Result { () throws(PluginError) in try loadPlugin(path: name) }
        }
    }

    /// Loads (or finds) the plugin image at `path` (resolved as `resolve(plugin:)` says),
    /// initialises it and keeps it loaded.
    @discardableResult
    public func loadPlugin(path: String) throws(PluginError) -> PluginSummary {
        try admin.withLock { _ throws(PluginError) in
            let image = try openImage(path: path)
            try image.pin()
            return summary(of: image)
        }
    }

    /// Unpins a plugin loaded with `loadPlugin`; it is finalized once no model uses it.
    public func unloadPlugin(named name: String) throws(PluginError) {
        try admin.withLock { _ throws(PluginError) in
            let images = registry.withLock { r in r.images.values.filter { $0.name == name || $0.path == name } }
            guard !images.isEmpty else {
                throw PluginError(.unknownPlugin, "no plugin named '\(name)' is loaded (loaded: \(plugins().map(\.name).joined(separator: ", ")))")
            }
            images.forEach { $0.unpin() }
        }
    }

    /// Loaded plugin images.
    public func plugins() -> [PluginSummary] {
        let images = registry.withLock { Array($0.images.values) }
        return images.filter(\.isOpen).map(summary(of:)).sorted { ($0.name, $0.path) < ($1.name, $1.path) }
    }

    private func summary(of image: PluginImage) -> PluginSummary {
        let models = registry.withLock { r in r.models.values.filter { $0.image === image }.map(\.registeredName) }
        return PluginSummary(name: image.name, version: image.version, path: image.path,
                             abiVersion: "\(image.abiMajor).\(image.abiMinor)", description: image.summary,
                             models: models.sorted())
    }

    /// Resolves a plugin name or path to a real file path.
    ///
    /// - An absolute path is used as given: only the configuration file and admin methods name
    ///   plugins, and they may load one from anywhere.
    /// - A relative path (`sub/x.so`, `x.so`) and a name (`text`: `text.so`, `libembedd-text.so`,
    ///   `embedd-text.so`) are looked up in the plugins directory and must stay inside it after
    ///   `..` and symbolic links are resolved; otherwise `.outsideDirectory` (issue 17, defect 11).
    /// - Without a plugins directory (the conformance kit), a relative path is taken from the
    ///   working directory, as a shell command's argument would be.
    public func resolve(plugin: String) throws(PluginError) -> String {
        let isPath = plugin.contains("/") || plugin.hasSuffix(".so")
        if plugin.hasPrefix("/") || (isPath && pluginsDirectory == nil) {
            guard FileSystem.exists(plugin) else { throw PluginError(.fileNotFound, "plugin file not found: \(plugin)") }
            do { return try FileSystem.realPath(plugin) } catch {
                throw PluginError(.fileNotFound, "cannot resolve plugin path \(plugin): \(error)")
            }
        }
        guard let dir = pluginsDirectory else {
            throw PluginError(.unknownPlugin, "plugin '\(plugin)' is not a path and no plugins directory is configured")
        }
        let candidates = isPath ? [plugin] : ["\(plugin).so", "libembedd-\(plugin).so", "embedd-\(plugin).so"]
        for c in candidates where FileSystem.exists(dir + "/" + c) {
            return try ConfinedPath.resolve(c, in: dir, setting: "plugins_dir", what: "plugin path",
                                            given: isPath ? nil : "'\(plugin)' (found as '\(c)')")
        }
        if isPath {
            // Refuse a path outside even when nothing is there, so the answer does not depend
            // on what exists outside the directory.
            let resolved = try ConfinedPath.resolve(plugin, in: dir, setting: "plugins_dir", what: "plugin path")
            throw PluginError(.fileNotFound, "plugin file not found: \(resolved) ('\(plugin)' in plugins_dir \(dir))")
        }
        throw PluginError(.unknownPlugin, "no plugin named '\(plugin)' in \(dir) (looked for \(candidates.joined(separator: ", ")))")
    }

    /// Opens the image for `path`, reusing an open image of the same build.
    private func openImage(path: String) throws(PluginError) -> PluginImage {
        let real = try resolve(plugin: path)
        guard FileSystem.isRegularFile(real) else { throw PluginError(.fileNotFound, "plugin path is not a regular file: \(real)") }
        let bytes: [UInt8]
        do { bytes = try FileSystem.readFile(real) } catch {
            throw PluginError(.notLoadable, "cannot read plugin \(real): \(error)")
        }
        let hash = fnv1a64(bytes)
        let (existing, mappedHash) = registry.withLock { r in (r.images[hash], r.mappedPaths[real]) }
        if let existing, existing.isOpen { return existing }
        var loadPath = real
        if let mappedHash, mappedHash != hash {
            // The loader still maps an older build from this path: load a private copy.
            loadPath = try privateCopy(of: real, hash: hash)
        }
        let services = Composition(describe: { [weak self] name in self?.model(named: name)?.info },
                                   route: { [weak self] in self?.currentComposedRoute() })
        let image = try PluginImage.open(path: real, loadedPath: loadPath, contentHash: hash, log: log, services: services,
                                         onFinalize: { [weak self] image in self?.forget(image) })
        registry.withLock { r in
            r.images[hash] = image
            if loadPath == real { r.mappedPaths[real] = hash }
        }
        log(.info, "loaded \(image.label), ABI \(image.abiMajor).\(image.abiMinor)\(loadPath == real ? "" : " from private copy \(loadPath)")")
        return image
    }

    private func forget(_ image: PluginImage) {
        registry.withLock { r in
            if r.images[image.contentHash] === image { r.images[image.contentHash] = nil }
            if image.unloadable, r.mappedPaths[image.loadedPath] == image.contentHash { r.mappedPaths[image.loadedPath] = nil }
        }
        if image.unloadable && image.loadedPath != image.path { try? FileSystem.unlink(image.loadedPath) }
    }

    private func privateCopy(of path: String, hash: UInt64) throws(PluginError) -> String {
        do {
            let dir: String
            if let cacheDirectory {
                try FileSystem.makeDirectories(cacheDirectory, permissions: 0o700)
                dir = cacheDirectory
            } else {
                dir = try sharedTemporaryDirectory()
            }
            let base = path.split(separator: "/").last.map(String.init) ?? "plugin.so"
            let copy = "\(dir)/\(String(hash, radix: 16))-\(base)"
            if !FileSystem.exists(copy) { try FileSystem.copyFile(from: path, to: copy) }
            return copy
        } catch {
            throw PluginError(.notLoadable, "cannot make a private copy of changed plugin \(path): \(error)")
        }
    }

    private static let temporaryDirectory = Mutex<String?>(nil)
    private func sharedTemporaryDirectory() throws(Errno) -> String {
        try PluginHost.temporaryDirectory.withLock { (d: inout String?) throws(Errno) -> String in
            if let d { return d }
            let made = try FileSystem.makeTemporaryDirectory(template: (Environment.get("TMPDIR") ?? "/tmp") + "/embedd-plugins-XXXXXX")
            d = made
            return made
        }
    }

    // MARK: Models

    /// Loads and registers a model; fails if the name is taken (use `reloadModel` to replace).
    @discardableResult
    public func loadModel(_ spec: ModelSpec) throws(PluginError) -> ModelSummary {
        try admin.withLock { _ throws(PluginError) in
            if registry.withLock({ $0.models[spec.name] != nil }) {
                throw PluginError(.modelExists, "a model named '\(spec.name)' is already loaded (reload it instead)")
            }
            let model = try instantiate(spec)
            registry.withLock { r in
                r.models[spec.name] = model
                r.specs[spec.name] = spec
                record(&r, .loaded, spec.name, model.generation, "\(model.image.label), \(model.info.name) \(model.info.version)")
            }
            log(.notice, "model '\(spec.name)' loaded: \(model.info.name) \(model.info.version), dim \(model.info.dimension), space \(model.info.embeddingSpace) (generation \(model.generation))")
            return summary(of: model)
        }
    }

    /// Hot swap: loads the new instance (from `spec`, or the current spec re-read from disk)
    /// beside the old one, warms it up with a probe call, switches routing in one step, and
    /// releases the old instance after its in-flight calls return. On any failure the old
    /// instance keeps serving and the error is thrown (and logged).
    @discardableResult
    public func reloadModel(name: String, spec newSpec: ModelSpec? = nil) throws(PluginError) -> ModelSummary {
        try admin.withLock { _ throws(PluginError) in
            let (old, oldSpec) = registry.withLock { r in (r.models[name], r.specs[name]) }
            guard let old, let oldSpec else { throw unknownModel(name) }
            var spec = newSpec ?? oldSpec
            spec.name = name
            let fresh: LoadedModel
            do throws(PluginError) {
                fresh = try instantiate(spec)
            } catch {
                registry.withLock { record(&$0, .swapFailed, name, old.generation, error.message) }
                log(.error, "reload of model '\(name)' failed; generation \(old.generation) keeps serving: \(error.message)")
                throw error
            }
            if fresh.info.embeddingSpace != old.info.embeddingSpace || fresh.info.dimension != old.info.dimension {
                log(.warning, "model '\(name)' changed embedding space \(old.info.embeddingSpace) (dim \(old.info.dimension)) → \(fresh.info.embeddingSpace) (dim \(fresh.info.dimension)): vectors stored from the old space are not comparable with new ones")
            }
            registry.withLock { r in
                r.models[name] = fresh
                r.specs[name] = spec
                record(&r, .swapped, name, fresh.generation, "replaces generation \(old.generation)")
            }
            old.retire()
            log(.notice, "model '\(name)' swapped: generation \(old.generation) → \(fresh.generation) (\(fresh.info.version)); the old one is released when its \(old.inFlight) in-flight call(s) finish")
            return summary(of: fresh)
        }
    }

    /// Loads a model instance that is *not* registered for routing (the conformance kit drives
    /// plugins this way). Call `LoadedModel.dispose()` when done.
    public func loadUnregisteredModel(_ spec: ModelSpec, warmUp: Bool) throws(PluginError) -> LoadedModel {
        try admin.withLock { _ throws(PluginError) in try instantiate(spec, warmUp: warmUp) }
    }

    /// Loads a new instance and proves it works; releases it again on failure.
    private func instantiate(_ spec: ModelSpec, warmUp shouldWarmUp: Bool = true) throws(PluginError) -> LoadedModel {
        if registry.withLock({ $0.shuttingDown }) { throw PluginError(.shuttingDown, "the plugin host is shutting down") }
        let image = try openImage(path: spec.plugin)
        let generation = registry.withLock { r in
            defer { r.nextGeneration += 1 }
            return r.nextGeneration
        }
        // The load runs on a thread lowered by `computeNice`, so the threads the plugin starts
        // for the model (its compute thread, an OpenMP team) inherit the lower priority.
        let loaded: Result<LoadedModel, PluginError>
        do {
            loaded = try OSThread.runJoined(niceSteps: spec.computeNice) {
                Result { () throws(PluginError) -> LoadedModel in
                    try image.loadModel(registeredName: spec.name, directory: spec.modelDirectory,
                                        options: spec.options, generation: generation,
                                        onRelease: { [weak self] m in self?.released(m) })
                }
            }
        } catch {
            throw PluginError(.modelLoadFailed, "cannot start a thread to load model '\(spec.name)': \(error)")
        }
        let model = try loaded.get()
        guard shouldWarmUp else { return model }
        _ = model.enter()
        defer { model.leave() }
        do {
            try warmUp(model)
        } catch {
            model.retire()
            throw error
        }
        return model
    }

    /// One probe call in the model's first accepted input kind; its vector must be finite.
    private func warmUp(_ model: LoadedModel) throws(PluginError) {
        let probe: EmbedInput
        if model.info.inputKinds.contains(.text) {
            probe = .text("embedd warm-up probe: the quick brown fox jumps over the lazy dog")
        } else if model.info.inputKinds.contains(.rgb8) {
            let side = 32
            probe = .rgb8(pixels: (0..<side * side * 3).map { UInt8(truncatingIfNeeded: $0 * 7) }, width: side, height: side)
        } else if model.info.inputKinds.contains(.pcmF32) {
            // One second of a 400 Hz triangle wave at 16 kHz.
            probe = .pcm(samples: (0..<16000).map { Float(abs(($0 % 40) - 20) - 10) / 20 }, sampleRate: 16000)
        } else {
            log(.warning, "model '\(model.registeredName)' accepts only encoded media; no warm-up probe")
            return
        }
        do throws(PluginError) {
            let batch = try model.embed([probe])
            if let failure = batch.failures[0] {
                throw PluginError(.warmupFailed, "model '\(model.registeredName)' failed its warm-up probe: \(failure)")
            }
        } catch {
            if error.kind == .warmupFailed { throw error }
            throw PluginError(.warmupFailed, "model '\(model.registeredName)' failed its warm-up probe: \(error.message)")
        }
    }

    /// Takes a model out of routing; it is released once its in-flight calls return.
    public func unloadModel(name: String) throws(PluginError) {
        try admin.withLock { _ throws(PluginError) in
            let model = registry.withLock { r -> LoadedModel? in
                guard let m = r.models.removeValue(forKey: name) else { return nil }
                r.specs[name] = nil
                record(&r, .unloaded, name, m.generation, "")
                return m
            }
            guard let model else { throw unknownModel(name) }
            model.retire()
            log(.notice, "model '\(name)' unloaded (generation \(model.generation), \(model.inFlight) call(s) still finishing)")
        }
    }

    /// Registered models, sorted by name.
    public func models() -> [ModelSummary] {
        registry.withLock { Array($0.models.values) }.map(summary(of:)).sorted { $0.name < $1.name }
    }

    /// One registered model, or nil.
    public func model(named name: String) -> ModelSummary? {
        registry.withLock { $0.models[name] }.map(summary(of:))
    }

    private func summary(of m: LoadedModel) -> ModelSummary {
        let spec = registry.withLock { $0.specs[m.registeredName] }
            ?? ModelSpec(name: m.registeredName, plugin: m.image.path, modelDirectory: m.directory, options: m.options)
        return ModelSummary(name: m.registeredName, plugin: summary(of: m.image), info: m.info, generation: m.generation,
                            inFlight: m.inFlight, spec: spec, calls: m.calls.load(ordering: .relaxed),
                            inputs: m.inputs.load(ordering: .relaxed), failedInputs: m.failedInputs.load(ordering: .relaxed),
                            failedCalls: m.failedCalls.load(ordering: .relaxed))
    }

    private func unknownModel(_ name: String) -> PluginError {
        let loaded = registry.withLock { $0.models.keys.sorted() }
        return PluginError(.unknownModel, "no model named '\(name)' is loaded (loaded: \(loaded.isEmpty ? "none" : loaded.joined(separator: ", ")))")
    }

    // MARK: Serving

    /// Sends plugins' `embed_with` calls through `route` (the daemon: the target model's
    /// batcher, so composed calls queue and batch with clients' calls) instead of `embed`.
    public func routeComposedCalls(through route: @escaping ComposedRoute) {
        composedRoute.withLock { $0 = route }
    }

    private func currentComposedRoute() -> ComposedRoute {
        if let route = composedRoute.withLock({ $0 }) { return route }
        let direct: ComposedRoute = { [weak self] name, inputs, cancel, segments throws(PluginError) in
            guard let self else { throw PluginError(.shuttingDown, "the plugin host is gone") }
            return try self.embed(model: name, inputs: inputs, cancel: cancel, segments: segments)
        }
        return direct
    }

    /// Embeds `inputs` with the model registered as `model`, on the calling thread.
    ///
    /// Inputs whose kind the model does not accept, or that exceed `maxInputBytes`, fail alone
    /// without reaching the plugin. The instance is pinned for the whole call: a concurrent
    /// swap lets this call finish on the instance it started on.
    /// `segments`: ask for per-segment vectors too (ABI 1.1; see `LoadedModel.embed`).
    public func embed(model name: String, inputs: [EmbedInput], cancel: CancellationFlag? = nil,
                      segments: Bool = false) throws(PluginError) -> EmbedBatch {
        let model = try acquire(name)
        defer { model.leave() }
        let info = model.info
        var failures = [InputFailure?](repeating: nil, count: inputs.count)
        var accepted: [Int] = []
        for (i, input) in inputs.enumerated() {
            if let failure = precheck(input, info: info) { failures[i] = failure } else { accepted.append(i) }
        }
        if accepted.count == inputs.count {
            var batch = try model.embed(inputs, cancel: cancel, segments: segments)
            batch.completedSequence = nextSequence()
            return batch
        }
        var vectors = [Float](repeating: 0, count: inputs.count * info.dimension)
        var usage = [TokenUsage](repeating: TokenUsage(), count: inputs.count)
        var found = [[TimeSegment]](repeating: [], count: segments ? inputs.count : 0)
        if !accepted.isEmpty {
            let sub = try model.embed(accepted.map { inputs[$0] }, cancel: cancel, segments: segments)
            for (k, i) in accepted.enumerated() {
                failures[i] = sub.failures[k]
                if !sub.usage.isEmpty { usage[i] = sub.usage[k] }
                if segments && !sub.segments.isEmpty { found[i] = sub.segments[k] }
                vectors.replaceSubrange(i * info.dimension ..< (i + 1) * info.dimension,
                                        with: sub.vectors[k * info.dimension ..< (k + 1) * info.dimension])
            }
        }
        var batch = EmbedBatch(dimension: info.dimension, vectors: vectors, failures: failures,
                               modelVersion: info.version, generation: model.generation, embeddingSpace: info.embeddingSpace)
        batch.usage = usage
        batch.segments = found
        batch.completedSequence = nextSequence()
        return batch
    }

    /// Checks an input against what the model declared, before it reaches the plugin.
    private func precheck(_ input: EmbedInput, info: ModelInfo) -> InputFailure? {
        guard info.inputKinds.contains(input.kind) else {
            return InputFailure(code: .unsupportedInput,
                                message: "model '\(info.name)' does not accept \(input.kind) input (it accepts \(info.inputKinds.map(\.description).sorted().joined(separator: ", ")))")
        }
        if case .encoded(_, let mime) = input, mime.isEmpty, !info.mimeTypes.isEmpty {
            return InputFailure(code: .unsupportedInput,
                                message: "media type unknown: none was given and the content is none that model '\(info.name)' takes (\(info.mimeTypes.joined(separator: ", ")))")
        }
        if case .encoded(_, let mime) = input, !info.mimeTypes.isEmpty, !info.mimeTypes.contains(mime) {
            return InputFailure(code: .unsupportedInput,
                                message: "model '\(info.name)' does not accept media type '\(mime)' (it accepts \(info.mimeTypes.joined(separator: ", ")))")
        }
        // After the type: a video sent to a text model is refused for being a video, not for its
        // size. An open file is read in place, not held in memory: the model's own limits
        // (duration, resolution) bound it, not its byte cap for inputs passed as bytes.
        if info.maxInputBytes > 0 && input.byteCount > info.maxInputBytes && input.kind != .file {
            return InputFailure(code: .tooLarge, message: "input is \(input.byteCount) bytes; model '\(info.name)' accepts at most \(info.maxInputBytes)")
        }
        return nil
    }

    /// Pins the current instance of a model for one call (`leave()` it afterwards).
    func acquire(_ name: String) throws(PluginError) -> LoadedModel {
        let model = registry.withLock { r -> LoadedModel? in
            guard !r.shuttingDown, let m = r.models[name], m.enter() else { return nil }
            return m
        }
        guard let model else {
            if registry.withLock({ $0.shuttingDown }) { throw PluginError(.shuttingDown, "the daemon is shutting down") }
            throw unknownModel(name)
        }
        return model
    }

    // MARK: History and shutdown

    private func released(_ m: LoadedModel) {
        registry.withLock { record(&$0, .released, m.registeredName, m.generation, m.info.version) }
        log(.info, "model '\(m.registeredName)' generation \(m.generation) released")
        // The generation's weights, load-time temporaries and workspaces were freed into the
        // arenas of threads that are gone now: give the pages back (hundreds of MiB over a few
        // hot swaps otherwise stay resident; see Allocator).
        Allocator.trim()
    }

    private func record(_ r: inout Registry, _ kind: ModelEvent.Kind, _ model: String, _ generation: Int, _ detail: String) {
        r.events.append(ModelEvent(sequence: nextSequence(), kind: kind, model: model, generation: generation, detail: detail))
        if r.events.count > 512 { r.events.removeFirst(r.events.count - 512) }
    }

    private func nextSequence() -> Int { sequence.add(1, ordering: .sequentiallyConsistent).newValue }

    /// The recent history of loads, swaps, unloads (oldest first, at most 512).
    public func events() -> [ModelEvent] { registry.withLock { $0.events } }

    /// Stops routing, retires every model (released as their calls finish) and unpins plugins.
    public func shutdown() {
        admin.withLock { _ in
            let (models, images) = registry.withLock { r -> ([LoadedModel], [PluginImage]) in
                r.shuttingDown = true
                let m = Array(r.models.values)
                r.models.removeAll()
                r.specs.removeAll()
                return (m, Array(r.images.values))
            }
            models.forEach { $0.retire() }
            images.forEach { $0.unpin() }
        }
        // A swap's last call may be releasing its old model on a thread of its own.
        if !LoadedModel.waitForDetachedReleases(seconds: 30) {
            log(.warning, "shutdown: a plugin's release_model is still running after 30 s")
        }
    }
}

/// FNV-1a, 64-bit: identifies a build of a plugin file (not a security hash).
func fnv1a64(_ bytes: [UInt8]) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
    return h
}
