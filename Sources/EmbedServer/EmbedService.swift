import EmbedConfig
import EmbedPluginHost
import EmbedSys
import EmbedWire
import Synchronization

/// The daemon's methods: the handlers behind the dispatch table, and model management
/// (start-up load, SIGHUP reload, admin calls) on top of the plugin host.
public final class EmbedService: Sendable {
    private let host: PluginHost
    private let models = ModelTable()
    let log: Logger
    private let configBox: Mutex<Config>
    private let startedAt = Clock.monotonicNanoseconds()
    private let reloads = Atomic<UInt64>(0)
    private let lastReloadError = Mutex("")
    private let overrides: ConfigOverrides
    private let workingDirectory: String
    /// Lifecycle state, limits and counters, shared with the server.
    private let shared: ServingState
    private let notify: SdNotify
    private let batchers = Mutex<[String: ModelBatcher]>([:])
    /// Reads the files an Embed call passes, off the event loop, before it joins its batch.
    private let fileReads: WorkQueue
    /// The models LoadModel keeps under DATA_DIR/models.d.
    let persisted: PersistedModels

    public init(config: Config, overrides: ConfigOverrides, workingDirectory: String, log: Logger, notify: SdNotify,
                shared: ServingState, fileReads: WorkQueue) {
        self.shared = shared
        self.fileReads = fileReads
        configBox = Mutex(config)
        self.overrides = overrides
        self.workingDirectory = workingDirectory
        self.log = log
        self.notify = notify
        host = PluginHost(pluginsDirectory: config.pluginsDirectory, log: log.sink)
        persisted = PersistedModels(dataDirectory: config.dataDirectory)
        for m in config.models {
            models.set(ModelEntry(config: m, directory: config.resolvedModelDirectory(m), state: .loading, error: "",
                                  sourceFile: config.sourcePath ?? ""))
        }
        addPersistedModels()
        routeComposedCalls(host)
    }

    /// Lists the models kept in models.d after the configured ones (they load after them).
    /// A name the configuration file also has is the configuration's: the file is left alone
    /// and ignored, with a warning. A file that cannot be read is logged, and listed as a failed
    /// model carrying the error, so `embedctl models` shows it; the daemon starts anyway.
    private func addPersistedModels() {
        let c = config
        let (found, error) = persisted.readAll()
        if let error { log.error("\(error): the models loaded from the shell are not loaded again") }
        let configured = Set(c.models.map(\.name))
        let configFile = c.sourcePath ?? "the configuration"
        for f in found {
            switch f {
            case .model(let m, let path):
                if configured.contains(m.name) {
                    log.warning("\(path): model '\(m.name)' is also configured in \(configFile), whose entry is used; this file is ignored (remove one of the two)")
                    continue
                }
                models.set(ModelEntry(config: m, directory: c.resolvedModelDirectory(m), state: .loading, error: "",
                                      source: .persisted, sourceFile: path))
            case .broken(let name, let path, let error):
                log.error("\(error): this model file is skipped and the daemon starts without it (fix the file, or remove it with `embedctl models unload \(name)`)")
                if configured.contains(name) { continue }
                models.set(ModelEntry(config: ModelConfig(name: name, plugin: "", modelDirectory: ""), directory: "", state: .failed,
                                      error: error, source: .persisted, sourceFile: path, fileError: error))
            }
        }
    }

    public var config: Config { configBox.withLock { $0 } }

    // MARK: Wiring

    /// Registers the model methods on `server`: Health, Status, ListModels, ListPlugins, Embed
    /// and the admin methods that load, swap and unload plugins and models.
    public func install(on server: Server) {
        server.register(.health, .typed(HealthRequest.self, executor: .inline, allowedWhileDraining: true) { [self] _, _ in health() })
        server.register(.status, .typed(StatusRequest.self, executor: .inline, allowedWhileDraining: true) { [self] _, _ in status() })
        server.register(.listModels, .typed(ListModelsRequest.self, executor: .inline, allowedWhileDraining: true) { [self] _, _ in
            ListModelsResponse(models: modelInfos())
        })
        server.register(.listPlugins, .typed(ListPluginsRequest.self, executor: .inline, allowedWhileDraining: true) { [self] _, _ in
            ListPluginsResponse(plugins: host.plugins().map(PluginInfo.init))
        })
        server.register(.embed, .deferred(EmbedRequest.self) { [self] ctx, req, completion in
            guard req.inputs.contains(where: { $0.fileIndex != nil }) else {
                startEmbed(ctx, req, completion)
                return
            }
            if !fileReads.submit({ [self] in embedReadingFiles(ctx, req, completion) }) {
                completion(.failure(RPCError(.unavailable, "the server is shutting down")))
            }
        })
        server.register(.loadPlugin, .typed(LoadPluginRequest.self, requiresAdmin: true, executor: .admin) { [self] (_, req) throws(RPCError) in
            try loadPlugin(req)
        })
        server.register(.reloadPlugin, .typed(ReloadPluginRequest.self, requiresAdmin: true, executor: .admin) { [self] (_, req) throws(RPCError) in
            try reloadPlugin(req)
        })
        server.register(.unloadModel, .typed(UnloadModelRequest.self, requiresAdmin: true, executor: .admin) { [self] (_, req) throws(RPCError) in
            try unloadModel(req)
        })
        server.register(.loadModel, .typed(LoadModelRequest.self, requiresAdmin: true, executor: .admin) { [self] (_, req) throws(RPCError) in
            try loadModel(req)
        })
    }

    // MARK: What other services may ask (StoreService)

    /// The loaded model of that name (its current generation), or nil.
    func loadedModel(named name: String) -> ModelSummary? { host.model(named: name) }

    /// The names of the loaded models.
    func loadedModelNames() -> [String] { host.models().map(\.name) }

    /// Every loaded model, sorted by name.
    func loadedModels() -> [ModelSummary] { host.models() }

    /// The configured model of that name, with its state (loading, failed…), or nil.
    func configuredModel(_ name: String) -> ModelEntry? { models.entry(name) }

    /// How many configured models are ready, of how many.
    public func readyModels() -> (ready: Int, configured: Int) {
        let entries = models.snapshot()
        return (entries.filter { $0.state == .ready }.count, entries.count)
    }

    /// Releases every model and plugin (after `stopBatchers`, at the end of a stop).
    public func releaseModels() { host.shutdown() }

    // MARK: Start-up and reload (admin thread)

    /// Discovers plugins and loads every configured model; failures are logged and recorded,
    /// never fatal. Runs on the admin thread.
    public func loadConfiguredModels() {
        for result in host.discoverPlugins() {
            switch result {
            case .success(let p): log.info("plugin \(p.name) \(p.version) (ABI \(p.abiVersion)) from \(p.path)")
            case .failure(let e): log.error("plugin discovery: \(e.message)")
            }
        }
        for entry in EmbedService.loadOrder(models.snapshot()) where entry.state != .ready && entry.fileError == nil {
            load(entry)
        }
    }

    /// Configuration order, except that a model another model's options name (`frames_model:`,
    /// `audio_model:` — a video model composes them, ABI 1.1) loads before the models naming it.
    static func loadOrder(_ entries: [ModelEntry]) -> [ModelEntry] {
        let named = Set(entries.flatMap { e in e.config.options.filter { $0.key.hasSuffix("_model") }.map(\.value) })
        return entries.filter { named.contains($0.config.name) } + entries.filter { !named.contains($0.config.name) }
    }

    /// The host's spec for a configured model. A relative `model_dir` must stay inside
    /// `models_dir` once `..` and symlinks are resolved, and the plugin gets the resolved path;
    /// an absolute one (config file or admin) is used as given. The plugin name or path is
    /// resolved, and confined to `plugins_dir`, by the host.
    private func spec(_ entry: ModelEntry) throws(PluginError) -> ModelSpec {
        let c = config
        var directory = entry.config.modelDirectory
        if !directory.hasPrefix("/") {
            directory = try ConfinedPath.resolve(directory, in: c.modelsDirectory, setting: "models_dir", what: "model directory")
        }
        return ModelSpec(name: entry.config.name, plugin: entry.config.plugin, modelDirectory: directory, options: entry.config.options,
                         computeNice: c.batching.computeNice)
    }

    /// The sentence-transformers prompts in the model's folder (`ModelPrompts`), read at every
    /// load and swap; a file that sentence-transformers would refuse fails the load.
    private func readPrompts(_ spec: ModelSpec) throws(PluginError) -> ModelPrompts {
        do { return try ModelPrompts.read(directory: spec.modelDirectory) } catch {
            throw PluginError(.modelLoadFailed, "model '\(spec.name)': \(error.message)")
        }
    }

    /// The prompts of the loaded model `name` (none for a model that is not configured).
    func prompts(of name: String) -> ModelPrompts { models.entry(name)?.prompts ?? .empty }

    /// The prompt text an Embed call gets (`EmbedRequest.prompt`; "" = the model's default), or
    /// nil for none. INVALID_ARGUMENT naming the model's prompts for a name it does not have.
    func promptText(model: String, asked: String) throws(RPCError) -> String? {
        do { return try prompts(of: model).resolve(asked: asked, model: model) } catch {
            throw RPCError(.invalidArgument, error.message)
        }
    }

    @discardableResult
    private func load(_ entry: ModelEntry) -> PluginError? {
        if let broken = entry.fileError {
            // Nothing to load: the file in models.d did not parse (ReloadPlugin's retry of
            // failed models gets here too).
            return PluginError(.modelLoadFailed, broken)
        }
        models.update(entry.config.name) { $0.state = .loading; $0.error = "" }
        do {
            let s = try spec(entry)
            let prompts = try readPrompts(s)
            _ = try host.loadModel(s)
            models.update(entry.config.name) { $0.state = .ready; $0.error = ""; $0.prompts = prompts }
            return nil
        } catch {
            log.error("model '\(entry.config.name)' failed to load: \(error.message)")
            models.update(entry.config.name) { $0.state = .failed; $0.error = error.message }
            return error
        }
    }

    /// SIGHUP: re-reads the configuration file and applies it. Models are hot-swapped through
    /// the host (the old generation serves until the new one is ready; on failure it keeps
    /// serving). A configuration that does not parse changes nothing. Runs on the admin thread.
    public func reload() {
        // Only from serving: a reload queued just before SIGTERM must not swap models while
        // the daemon drains, nor report it serving again (nor send RELOADING after STOPPING).
        if !shared.transition(from: .serving, to: .reloading) {
            log.notice("reload skipped: the daemon is \(shared.state.rawValue)")
            return
        }
        notify.reloading(status: "reloading configuration")
        defer {
            if shared.transition(from: .reloading, to: .serving) { notifyReady() }
            reloads.add(1, ordering: .relaxed)
        }
        let old = config
        var new = old
        if let path = old.sourcePath {
            do {
                new = try Config.load(path: path)
            } catch {
                log.error("reload: configuration rejected, keeping the running one: \(error)")
                lastReloadError.withLock { $0 = error.description }
                return
            }
            overrides.apply(to: &new, workingDirectory: workingDirectory)
        }
        if new.socket != old.socket { log.warning("reload: socket settings changed; they take effect on restart") }
        if new.pluginsDirectory != old.pluginsDirectory { log.warning("reload: plugins_dir changed; it takes effect on restart") }
        if new.store != old.store { log.warning("reload: store settings changed; they take effect on restart") }
        log.setVerbosity(new.logLevel)
        shared.setLimits(new.limits)
        shared.setAdminGroup(new.adminGroup.flatMap(UserDatabase.groupID(named:)))
        configBox.withLock { $0 = new }

        var errors: [String] = []
        let wanted = Set(new.models.map(\.name))
        // Models gone from the file: unload (they drain first).
        for entry in models.snapshot() where !wanted.contains(entry.config.name) && old.models.contains(where: { $0.name == entry.config.name }) {
            if host.model(named: entry.config.name) != nil {
                do { try host.unloadModel(name: entry.config.name) } catch { errors.append(error.message) }
            }
            models.remove(entry.config.name)
        }
        for m in new.models {
            let entry = ModelEntry(config: m, directory: new.resolvedModelDirectory(m), state: .loading, error: "",
                                   sourceFile: new.sourcePath ?? "")
            if let shadowed = models.entry(m.name), shadowed.source != .config {
                log.warning("reload: model '\(m.name)' is now configured in \(new.sourcePath ?? "the configuration"), whose entry replaces the one \(shadowed.source == .persisted ? "in \(shadowed.sourceFile) (that file is ignored from now on; remove one of the two)" : "loaded by an admin call")")
            }
            if host.model(named: m.name) != nil {
                // Hot swap, also when nothing changed: reload re-reads weights and plugin files.
                models.update(m.name) {
                    $0.config = m; $0.directory = entry.directory; $0.source = .config; $0.sourceFile = entry.sourceFile; $0.fileError = nil
                }
                do {
                    let s = try spec(entry)
                    let prompts = try readPrompts(s)  // re-read: the folder may have new prompts
                    _ = try host.reloadModel(name: m.name, spec: s)
                    models.update(m.name) { $0.state = .ready; $0.error = ""; $0.prompts = prompts }
                    shared.metrics.model(m.name).reloadsSucceeded.add()
                } catch {
                    models.update(m.name) { $0.error = "reload failed (previous generation still serving): \(error.message)" }
                    errors.append(error.message)
                    shared.metrics.model(m.name).reloadsFailed.add()
                }
            } else {
                models.set(entry)
                if let e = load(entry) { errors.append(e.message) }
            }
        }
        models.reorder(new.models.map(\.name))
        lastReloadError.withLock { $0 = errors.joined(separator: "; ") }
        let ready = models.snapshot().filter { $0.state == .ready }.count
        log.notice("reload done: \(ready) of \(new.models.count) model(s) ready\(errors.isEmpty ? "" : ", \(errors.count) error(s)")")
    }

    /// READY=1 after a reload, with what the last one left.
    private func notifyReady() {
        let error = lastReloadError.withLock { $0 }
        let ready = models.snapshot().filter { $0.state == .ready }.count
        notify.ready(status: error.isEmpty ? "serving \(ready) model(s)" : "serving \(ready) model(s); last reload failed: \(error)")
    }

    // MARK: Read-only methods

    func health() -> HealthResponse {
        let state = shared.state
        if state == .draining || state == .stopped { return HealthResponse(status: .draining, message: "shutting down") }
        let entries = models.snapshot()
        let ready = entries.filter { $0.state == .ready }.count
        if !entries.isEmpty && ready == 0 {
            let loading = entries.contains { $0.state == .loading }
            return HealthResponse(status: .notServing, message: loading ? "models are loading" : "no model is ready")
        }
        return HealthResponse(status: .serving, message: "\(ready) of \(entries.count) model(s) ready")
    }

    func modelInfos() -> [EmbedWire.ModelInfo] {
        let loaded = Dictionary(host.models().map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let def = models.defaultModel()
        return models.snapshot().map { EmbedWire.ModelInfo(entry: $0, loaded: loaded[$0.config.name], isDefault: $0.config.name == def) }
    }

    func status() -> StatusResponse {
        let c = config
        let s = shared
        return StatusResponse(
            version: EmbeddVersion.string, pid: UInt32(bitPattern: Environment.processID),
            uptimeMs: (Clock.monotonicNanoseconds() - startedAt) / 1_000_000, state: s.state.rawValue,
            socketPath: c.socket.path, configPath: c.sourcePath ?? "", connections: UInt32(clamping: s.connectionCount.load(ordering: .relaxed)),
            callsTotal: s.callsTotal.load(ordering: .relaxed),
            callsInFlight: UInt32(clamping: s.callsInFlight.load(ordering: .relaxed)),
            reloads: reloads.load(ordering: .relaxed), models: modelInfos(), plugins: host.plugins().map(PluginInfo.init),
            dataDir: c.dataDirectory, pluginsDir: c.pluginsDirectory, modelsDir: c.modelsDirectory,
            lastReloadError: lastReloadError.withLock { $0 }, protocolMajor: ProtocolVersion.major, protocolMinor: ProtocolVersion.minor)
    }

    // MARK: Embed (event loop → batcher threads)

    /// Validates an Embed call on the event loop and queues it on its model's batcher.
    /// Embed with passed files (on `fileReads`): reads them into the request, then continues as
    /// a plain Embed.
    private func embedReadingFiles(_ ctx: CallContext, _ req: EmbedRequest,
                                   _ completion: @escaping @Sendable (Result<EmbedResponse, RPCError>) -> Void) {
        var r = req
        var opened: [Int: EmbedInput] = [:]
        do throws(RPCError) {
            try ctx.checkAlive()
            // The count first: every file below is read into memory.
            let limits = config.limits
            guard r.inputs.count <= limits.maxInputsPerCall else {
                throw RPCError(.invalidArgument, "\(r.inputs.count) inputs in one call; the limit is \(limits.maxInputsPerCall) (limits.max_inputs_per_call): split the request")
            }
            let model = host.model(named: req.model.isEmpty ? (models.defaultModel() ?? "") : req.model)
            let textOnly = model.map { !$0.info.inputKinds.contains(.encoded) } ?? false
            for i in r.inputs.indices {
                if case .file(let f) = r.inputs[i].kind {
                    // A model that reads files itself (a video model) gets the open file.
                    if let model, model.info.inputKinds.contains(.file),
                       let file = try ctx.openFileInput(f, what: "input \(i)", sniff: true, opens: { mime in
                           model.info.mimeTypes.isEmpty || model.info.mimeTypes.contains(mime)
                       }) {
                        opened[i] = file
                        continue
                    }
                    r.inputs[i] = try ctx.fileInput(f, limit: limits.maxFrameBytes, textOnly: textOnly, what: "input \(i)")
                }
            }
        } catch {
            completion(.failure(error))
            return
        }
        startEmbed(ctx, r, opened: opened, completion)
    }

    /// - Parameter opened: inputs that are open files handed to the model as they are (by index).
    func startEmbed(_ ctx: CallContext, _ req: EmbedRequest, opened: [Int: EmbedInput] = [:],
                    _ completion: @escaping @Sendable (Result<EmbedResponse, RPCError>) -> Void) {
        if let wanted = req.model.isEmpty ? models.defaultModel() : req.model,
           waitingForLoad(of: wanted, ctx, { [self] in startEmbed(ctx, req, opened: opened, completion) }) {
            return
        }
        let name: String
        let inputs: [EmbedInput]
        do throws(RPCError) {
            (name, inputs) = try prepareEmbed(req, opened: opened)
        } catch {
            completion(.failure(error))
            return
        }
        let batcher: ModelBatcher
        do throws(RPCError) {
            batcher = try self.batcher(for: name)
        } catch {
            completion(.failure(error))
            return
        }
        if req.segments, let m = host.model(named: name), m.info.segmentSeconds <= 0 {
            completion(.failure(RPCError(.invalidArgument, "model '\(name)' returns no segments (only audio and video models cut their inputs into time windows); leave segments off")))
            return
        }
        var job = EmbedJob(inputs: inputs, caller: ctx.connection, cancellation: ctx.cancellation, deadline: ctx.deadline,
                           queuedAt: Clock.monotonicNanoseconds(), refuseTruncation: refusesTruncation(name, req.truncation)) {
            [self] result in
            switch result {
            case .failure(let e): completion(.failure(e))
            case .success(let slice):
                do throws(RPCError) { completion(.success(try finishEmbed(name, slice, ctx))) } catch { completion(.failure(error)) }
            }
        }
        job.segments = req.segments
        if let refused = batcher.submit(job) { completion(.failure(refused)) }
    }

    /// Whether a call's over-long texts fail instead of being cut: the call's own choice, else
    /// the model's `truncate:` setting (cut by default, as sentence-transformers does).
    func refusesTruncation(_ model: String, _ t: Truncation) -> Bool {
        switch t {
        case .on: return false
        case .off: return true
        default: return !(models.entry(model)?.config.truncate ?? true)
        }
    }

    /// A model whose plugin call has been running longer than `limits.stuck_call_timeout`
    /// (a plugin that ignores cancellation and never returns), with how long, or nil.
    /// When model `name` is still loading, parks the call until the load ends and then runs
    /// `resume` (on the thread that finished the load): calls for a loading model wait for it
    /// within their deadline instead of failing UNAVAILABLE. One whose deadline passes
    /// meanwhile has been answered DEADLINE_EXCEEDED by the server, and is not resumed.
    /// - Returns: false when the call can go on now (the model is loaded, failed or unknown).
    func waitingForLoad(of name: String, _ ctx: CallContext, _ resume: @escaping @Sendable () -> Void) -> Bool {
        guard host.model(named: name) == nil else { return false }
        return models.whenSettled(name, deadline: ctx.deadline, cancellation: ctx.cancellation) {
            guard !ctx.cancellation.isCancelled, Clock.monotonicNanoseconds() < ctx.deadline else { return }
            resume()
        }
    }

    /// Lets go of calls that waited for a loading model past their deadline (the server has
    /// answered them): their requests and passed files are released. Periodic (event loop).
    public func dropExpiredWaiters(now: UInt64) { models.dropExpiredWaiters(now: now) }

    public func wedgedModel(now: UInt64) -> (model: String, seconds: Double)? {
        let limit = UInt64(config.limits.stuckCallTimeoutSeconds * 1e9)
        let all = batchers.withLock { Array($0) }
        var worst: (String, UInt64)? = nil
        for (name, b) in all {
            if let t = b.longestRunningCall(now: now), t > limit, t > (worst?.1 ?? 0) { worst = (name, t) }
        }
        return worst.map { ($0.0, Double($0.1) / 1e9) }
    }

    func batcher(for name: String) throws(RPCError) -> ModelBatcher {
        let settings = config.batching
        let result = batchers.withLock { b -> Result<ModelBatcher, Errno> in
            if let existing = b[name] { return .success(existing) }
            do throws(Errno) {
                let created = try ModelBatcher(model: name, host: host, settings: settings, metrics: shared.metrics.model(name))
                b[name] = created
                return .success(created)
            } catch {
                return .failure(error)
            }
        }
        switch result {
        case .success(let b): return b
        case .failure(let e): throw RPCError(.resourceExhausted, "cannot start a compute thread for model '\(name)': \(e)")
        }
    }

    /// The registry the batchers and reloads count into (MetricsService reads it).
    var metrics: MetricsRegistry { shared.metrics }

    /// Inputs queued per model that has a batcher (models that never got an Embed call have
    /// none: nothing queued), by name.
    func queueDepths() -> [(model: String, inputs: Int)] {
        let all: [(String, ModelBatcher)] = batchers.withLock { $0.map { ($0.key, $0.value) } }
        var out: [(model: String, inputs: Int)] = []
        for (name, b) in all { out.append((model: name, inputs: b.queuedInputs)) }
        return out.sorted { $0.model < $1.model }
    }

    /// Stops every batcher (queued calls fail with UNAVAILABLE); joins their threads.
    public func stopBatchers() {
        let all = batchers.withLock { b in
            let list = Array(b.values)
            b.removeAll()
            return list
        }
        for b in all { b.stop() }
    }

    /// Checks an Embed request and resolves its model; converts the inputs for the host.
    func prepareEmbed(_ req: EmbedRequest, opened: [Int: EmbedInput] = [:]) throws(RPCError) -> (String, [EmbedInput]) {
        let limits = config.limits
        guard !req.inputs.isEmpty else { throw RPCError(.invalidArgument, "Embed needs at least one input") }
        guard req.inputs.count <= limits.maxInputsPerCall else {
            throw RPCError(.invalidArgument, "\(req.inputs.count) inputs in one call; the limit is \(limits.maxInputsPerCall) (limits.max_inputs_per_call): split the request")
        }
        var name = req.model
        if name.isEmpty {
            guard let d = models.defaultModel() else { throw RPCError(.failedPrecondition, "no model is configured, so there is no default model") }
            name = d
        }
        guard let model = host.model(named: name) else {
            if let e = models.entry(name) {
                switch e.state {
                case .loading: throw RPCError(.unavailable, "model '\(name)' is still loading; retry shortly")
                case .failed: throw RPCError(.failedPrecondition, "model '\(name)' failed to load: \(e.error)")
                default: break
                }
            }
            let names = models.snapshot().map(\.config.name)
            throw RPCError(.notFound, "no model named '\(name)' (configured: \(names.isEmpty ? "none" : names.joined(separator: ", ")))")
        }
        let prompt = try promptText(model: name, asked: req.prompt)
        var inputs: [EmbedInput] = []
        inputs.reserveCapacity(req.inputs.count)
        for (i, input) in req.inputs.enumerated() {
            if let file = opened[i] {
                inputs.append(file)
                continue
            }
            guard let converted = try EmbedInput(wire: input, what: "input \(i)") else {
                // Passed descriptors are read (off the event loop) before the call gets here.
                let index: UInt32 = if case .file(let f) = input.kind { f.index } else { 0 }
                throw RPCError(.invalidArgument, "input \(i): file descriptor #\(index) was not passed with this frame")
            }
            inputs.append(try model.textIfUntypedMedia(converted, what: "input \(i)").prompted(prompt))
        }
        return (name, inputs)
    }

    /// Turns a job's rows into the response, or fails the call naming the first bad input.
    func finishEmbed(_ name: String, _ batch: BatchSlice, _ ctx: CallContext) throws(RPCError) -> EmbedResponse {
        let failed = batch.failures.enumerated().compactMap { i, f in f.map { (i, $0) } }
        if let (i, f) = failed.first {
            let code: StatusCode
            switch f.code {
            case .invalidInput, .unsupportedInput, .badOptions: code = .invalidArgument
            case .tooLarge: code = .outOfRange
            case .cancelled: code = ctx.cancellation.isCancelled ? .cancelled : .aborted
            case .resourceExhausted: code = .resourceExhausted
            default: code = .internal
            }
            let more = failed.count > 1 ? " (and \(failed.count - 1) more failed input(s))" : ""
            throw RPCError(code, "input \(i): \(f.message)\(more)")
        }
        var response = EmbedResponse(model: name, dim: UInt32(batch.dimension), modelVersion: batch.modelVersion,
                                     generation: UInt64(batch.generation))
        response.vectors.reserveCapacity(batch.count)
        for i in 0..<batch.count { response.vectors.append(Vector(values: batch.vector(at: i))) }
        if batch.usage.contains(where: \.isCounted) {
            response.usage = batch.usage.map { EmbedWire.InputUsage($0) ?? EmbedWire.InputUsage() }
            response.totalTokens = batch.usage.reduce(0) { $0 + UInt64($1.tokens) }
        }
        if !batch.segments.isEmpty {
            response.segments = batch.segments.map { list in
                InputSegments(segments: list.map { EmbedWire.Segment(start: $0.start, end: $0.end, values: $0.vector) })
            }
        }
        return response
    }

    // MARK: Admin methods (admin thread)

    func loadPlugin(_ req: LoadPluginRequest) throws(RPCError) -> LoadPluginResponse {
        guard !req.path.isEmpty else { throw RPCError(.invalidArgument, "LoadPlugin needs a path (or a plugin name)") }
        // Only admins get here (requiresAdmin): an absolute path is theirs to choose; a name or
        // relative path is resolved in plugins_dir and may not leave it (the host checks).
        do {
            let p = try host.loadPlugin(path: req.path)
            log.notice("plugin \(p.name) \(p.version) loaded from \(p.path) by an admin call")
            return LoadPluginResponse(plugin: PluginInfo(p))
        } catch {
            throw RPCError(error)
        }
    }

    func reloadPlugin(_ req: ReloadPluginRequest) throws(RPCError) -> ReloadPluginResponse {
        guard !req.plugin.isEmpty || !req.model.isEmpty else {
            throw RPCError(.invalidArgument, "ReloadPlugin needs a plugin name (or a model name)")
        }
        let path = req.path
        if !path.isEmpty {
            // A relative path that leaves plugins_dir is refused before any model is touched.
            do throws(PluginError) { _ = try host.resolve(plugin: path) } catch {
                if error.kind == .outsideDirectory { throw RPCError(error) }
            }
        }
        let loaded = host.models()
        var targets = loaded.filter { m in
            (req.plugin.isEmpty || m.plugin.name == req.plugin || m.spec.plugin == req.plugin) && (req.model.isEmpty || m.name == req.model)
        }.map(\.name)
        // Configured models of this plugin that failed to load get another try.
        let failed = models.snapshot().filter { e in
            e.state == .failed && (req.plugin.isEmpty || e.config.plugin == req.plugin) && (req.model.isEmpty || e.config.name == req.model)
        }
        if targets.isEmpty && failed.isEmpty {
            throw RPCError(.notFound, req.model.isEmpty
                           ? "no loaded model uses plugin '\(req.plugin)' (loaded plugins: \(host.plugins().map(\.name).joined(separator: ", ")))"
                           : "no model named '\(req.model)'\(req.plugin.isEmpty ? "" : " uses plugin '\(req.plugin)'")")
        }
        // Failures by message, with the models each one hit: a bad plugin file fails every
        // model the same way and is reported once.
        var errors: [(message: String, models: [String])] = []
        func note(_ message: String, _ model: String) {
            if let i = errors.firstIndex(where: { $0.message == message }) { errors[i].models.append(model) } else { errors.append((message, [model])) }
        }
        for name in targets {
            var spec = loaded.first { $0.name == name }!.spec
            if !path.isEmpty { spec.plugin = path }
            do {
                let prompts = try readPrompts(spec)
                _ = try host.reloadModel(name: name, spec: spec)
                models.update(name) { $0.state = .ready; $0.error = ""; $0.prompts = prompts }
                shared.metrics.model(name).reloadsSucceeded.add()
            } catch {
                shared.metrics.model(name).reloadsFailed.add()
                // The caller gets the failure; the model itself is healthy (its previous
                // generation serves on), so its entry keeps no error mark.
                note(error.message, name)
            }
        }
        for var entry in failed {
            if !path.isEmpty { entry.config.plugin = path }
            if let e = load(entry) { note(e.message, entry.config.name) } else { targets.append(entry.config.name) }
        }
        if !errors.isEmpty {
            let served = targets.filter { name in !errors.contains { $0.models.contains(name) } && loaded.contains { $0.name == name } }
            let text = errors.map { "model\($0.models.count == 1 ? "" : "s") \($0.models.joined(separator: ", ")): \($0.message)" }
            throw RPCError(.failedPrecondition, text.joined(separator: "; ")
                           + (served.isEmpty ? "" : " (swapped: \(served.joined(separator: ", ")))")
                           + (loaded.isEmpty ? "" : "; models that were serving keep their previous generation"))
        }
        let infos = modelInfos().filter { targets.contains($0.name) }
        return ReloadPluginResponse(models: infos)
    }

    /// Unloads a model (its calls drain first) and removes its file from models.d, if it has
    /// one — also a file the configuration's entry of that name shadows, and a broken one.
    /// A model the configuration file names stays unloaded until the next start or reload
    /// (SIGHUP): embedd.yaml is the administrator's statement of what runs, and a marker that
    /// silently overrode it across restarts would surprise the next person reading it.
    func unloadModel(_ req: UnloadModelRequest) throws(RPCError) -> UnloadModelResponse {
        guard !req.name.isEmpty else { throw RPCError(.invalidArgument, "UnloadModel needs a model name") }
        let entry = models.entry(req.name)
        var before = modelInfos().first { $0.name == req.name }
        // Its file: the entry's own, or the one a configured entry of that name shadows.
        var file: String? = entry.flatMap { $0.source == .persisted ? $0.sourceFile : nil }
        if file == nil, ModelFile.isStorableName(req.name), FileSystem.exists(persisted.path(of: req.name)) {
            file = persisted.path(of: req.name)
        }
        if host.model(named: req.name) != nil {
            do { try host.unloadModel(name: req.name) } catch { throw RPCError(error) }
        } else if before == nil && file == nil {
            let names = models.snapshot().map(\.config.name)
            throw RPCError(.notFound, "no model named '\(req.name)' (configured: \(names.isEmpty ? "none" : names.joined(separator: ", ")))")
        }
        models.remove(req.name)
        if before == nil { before = EmbedWire.ModelInfo(name: req.name, source: ModelSource.persisted.rawValue, sourceFile: file ?? "") }
        if let file {
            do { try persisted.remove(file) } catch {
                log.error("model '\(req.name)' unloaded by an admin call, but \(file) could not be removed: \(error)")
                throw RPCError(.internal, "model '\(req.name)' is unloaded, but \(file) could not be removed (\(error)): it loads again at the next start")
            }
        }
        if let entry, entry.source == .config {
            let configFile = entry.sourceFile.isEmpty ? "the configuration" : entry.sourceFile
            log.notice("model '\(req.name)' unloaded by an admin call; \(configFile) still names it, so it loads again at the next start or reload\(file.map { " (\($0) removed)" } ?? "")")
        } else {
            log.notice("model '\(req.name)' unloaded by an admin call\(file.map { "; \($0) removed" } ?? "")")
        }
        return UnloadModelResponse(model: before)
    }

    /// Loads a model by an admin call and, unless `temporary`, keeps it in models.d so it loads
    /// again at every start. A name the configuration file has (unloaded by an admin call) is
    /// loaded with the call's settings but never kept: that file says how the name loads at
    /// the next start or reload, and a second definition under DATA_DIR would be shadowed.
    func loadModel(_ req: LoadModelRequest) throws(RPCError) -> LoadModelResponse {
        guard !req.name.isEmpty, !req.plugin.isEmpty else { throw RPCError(.invalidArgument, "LoadModel needs a name and a plugin") }
        guard !req.name.contains(where: { $0.isWhitespace || $0.asciiValue.map { $0 < 32 || $0 == 127 } == true }) else {
            throw RPCError(.invalidArgument, "model name '\(req.name)' contains spaces or control characters")
        }
        if host.model(named: req.name) != nil {
            throw RPCError(.alreadyExists, "a model named '\(req.name)' is already loaded (unload it first, or use ReloadPlugin to swap it)")
        }
        let c = config
        let configured = c.models.contains { $0.name == req.name }
        let keep = !req.temporary && !configured
        if keep && !ModelFile.isStorableName(req.name) {
            throw RPCError(.invalidArgument, "model name '\(req.name)' cannot be kept as \(persisted.directory)/NAME.yaml: use letters, digits, '.', '_' and '-' (not a leading '.'), at most 200 bytes; or load it as temporary")
        }
        let m = ModelConfig(name: req.name, plugin: req.plugin, modelDirectory: req.modelDir.isEmpty ? req.name : req.modelDir, options: req.options)
        let entry = ModelEntry(config: m, directory: c.resolvedModelDirectory(m), state: .loading, error: "",
                               source: keep ? .persisted : .call, sourceFile: keep ? persisted.path(of: req.name) : "")
        // A failed entry of that name (a kept model whose load failed at start, or a broken file)
        // comes back if this load fails: its file is still there.
        let previous = models.entry(req.name)
        func restore() { if let previous { models.set(previous) } else { models.remove(req.name) } }
        models.set(entry)
        if let e = load(entry) {
            restore()
            throw RPCError(e)
        }
        if keep {
            do { try persisted.save(m) } catch {
                try? host.unloadModel(name: req.name)
                restore()
                log.error("model '\(req.name)': cannot write \(entry.sourceFile): \(error); unloaded again")
                throw RPCError(.internal, "cannot write \(entry.sourceFile) (\(error)), so model '\(req.name)' would not survive a restart: it was unloaded again (load it with temporary to keep it until the daemon stops)")
            }
        }
        let until = configured ? " until the next start or reload, which load it as \(c.sourcePath ?? "the configuration") says" : " until the daemon stops"
        log.notice("model '\(req.name)' loaded by an admin call (plugin \(req.plugin), \(entry.directory))\(keep ? "; kept in \(entry.sourceFile)" : until)")
        return LoadModelResponse(model: modelInfos().first { $0.name == req.name })
    }
}
