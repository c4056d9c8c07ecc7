import EmbedConfig
import EmbedPluginHost
import EmbedStore
import EmbedSys
import EmbedWire
import Synchronization

/// The vector-store methods (ids 32…47): collections bound to a model or to a raw dimension,
/// upsert and search through the model's batcher, per-collection access control, and files
/// passed as descriptors.
///
/// Threads: handlers start on the event loop (decode only), then hop to `reads` (searches,
/// gets, listings) or `writes` (upserts, deletes, create/drop: they wait for fsync) so a slow
/// disk never delays searches; inputs are embedded on the model's batcher thread in between.
/// One exception: a short vector search (see `quickTarget`) runs on the event loop itself when
/// no other search is queued and the loop has not yet done one this turn: a lone client's
/// answer then skips a thread wake-up, tens of µs on an idle machine.
final class StoreService: Sendable {
    let embed: EmbedService
    let catalog: StoreCatalog
    let log: Logger
    let reads: WorkQueue
    private let writes: WorkQueue
    /// Searches handed to `reads` that no read thread has started yet.
    private let queuedSearches = Atomic<Int>(0)
    /// Bindings of open collections, by name, with the instance they were read for: a
    /// lookup for another instance (the name was dropped and created again meanwhile) reloads,
    /// so a late writer cannot give a new collection the old one's owner and ACL.
    private let bindings = Mutex<[String: BindingEntry]>([:])

    /// A cached binding and the instance it was read for (weakly: the cache must not keep a
    /// dropped collection's memory and mappings alive).
    private final class BindingEntry: @unchecked Sendable {
        weak var collection: VectorCollection?
        let binding: CollectionBinding
        init(_ collection: VectorCollection, _ binding: CollectionBinding) { self.collection = collection; self.binding = binding }
    }
    /// Serialises create and drop (they check, then change, the directory).
    private let ddl = Mutex(())
    /// Serialises rewrites of binding files to new-style space ids (`rebound`).
    private let rebinds = Mutex(())

    init(embed: EmbedService, log: Logger) throws(RPCError) {
        self.embed = embed
        self.log = log
        let dir = Config.join(embed.config.dataDirectory, "collections")
        do {
            var options = StoreService.openOptions(embed.config.store)
            let fsyncs = embed.metrics.walFsync
            options.logSyncObserver = { fsyncs.observe($0) }
            catalog = try StoreCatalog(directory: dir, options: options, logger: { [log] level, message in
                switch level {
                case .error: log.error("store: \(message)")
                case .warning: log.warning("store: \(message)")
                default: log.info("store: \(message)")
                }
            })
        } catch {
            throw RPCError(.internal, "cannot open the collections directory \(dir): \(error)")
        }
        do {
            reads = try WorkQueue(name: "store-read", threads: 2)
            writes = try WorkQueue(name: "store-write", threads: 4)
        } catch {
            throw RPCError(.internal, "cannot start store threads: \(error)")
        }
    }

    /// The store's options with the `store:` settings of the configuration applied over its
    /// defaults.
    static func openOptions(_ s: StoreSettings) -> OpenOptions {
        var o = OpenOptions()
        switch s.verifyOnOpen {
        case .full?: o.verification = .full
        case .background?: o.verification = .background
        case .header?: o.verification = .headerOnly
        case nil: break
        }
        if let v = s.checkpointLogBytes { o.checkpointLogBytes = Int64(v) }
        if let v = s.mirrorLogBytes { o.mirrorLogBytes = Int64(v) }
        if let v = s.maxUnindexed { o.maxUnindexed = v }
        if let v = s.compactionMinDeleted { o.compactionMinDeleted = v }
        if let v = s.compactionDeletedFraction { o.compactionDeletedFraction = v }
        if let v = s.rerankFactor { o.rerankFactor = v }
        if let v = s.quantizedSearch { o.quantizedSearch = v }
        return o
    }

    /// Registers the store methods.
    func install(on server: Server) {
        server.register(.createCollection, .deferred(CreateCollectionRequest.self) { [self] ctx, req, done in
            on(writes, ctx, done) { [self] () throws(RPCError) in CreateCollectionResponse(collection: try create(ctx, req)) }
        })
        server.register(.dropCollection, .deferred(DropCollectionRequest.self) { [self] ctx, req, done in
            on(writes, ctx, done) { [self] () throws(RPCError) in try drop(ctx, req.name); return DropCollectionResponse() }
        })
        server.register(.optimizeCollection, .deferred(OptimizeCollectionRequest.self) { [self] ctx, req, done in
            on(writes, ctx, done) { [self] () throws(RPCError) in OptimizeCollectionResponse(collection: try optimize(ctx, req.name)) }
        })
        server.register(.listCollections, .deferred(ListCollectionsRequest.self) { [self] ctx, _, done in
            on(reads, ctx, done) { [self] () throws(RPCError) in ListCollectionsResponse(collections: try list(ctx, stats: false, readableOnly: false)) }
        })
        server.register(.describeCollection, .deferred(DescribeCollectionRequest.self) { [self] ctx, req, done in
            on(reads, ctx, done) { [self] () throws(RPCError) in
                let (c, b) = try open(req.name, ctx, .read)
                return DescribeCollectionResponse(collection: info(c, b, ctx, stats: true))
            }
        })
        server.register(.count, .deferred(CountRequest.self) { [self] ctx, req, done in
            on(reads, ctx, done) { [self] () throws(RPCError) in
                let (c, _) = try open(req.collection, ctx, .read)
                return CountResponse(count: UInt64(c.count))
            }
        })
        server.register(.stats, .deferred(StatsRequest.self) { [self] ctx, req, done in
            on(reads, ctx, done) { [self] () throws(RPCError) in
                if req.collection.isEmpty { return StatsResponse(collections: try list(ctx, stats: true, readableOnly: true)) }
                let (c, b) = try open(req.collection, ctx, .read)
                return StatsResponse(collections: [info(c, b, ctx, stats: true)])
            }
        })
        server.register(.get, .deferred(GetRequest.self) { [self] ctx, req, done in
            on(reads, ctx, done) { [self] () throws(RPCError) in try get(ctx, req) }
        })
        server.register(.scan, .deferred(ScanRequest.self) { [self] ctx, req, done in
            on(reads, ctx, done) { [self] () throws(RPCError) in try scan(ctx, req) }
        })
        server.register(.delete, .deferred(DeleteRequest.self) { [self] ctx, req, done in
            on(writes, ctx, done) { [self] () throws(RPCError) in try delete(ctx, req) }
        })
        server.register(.upsert, .deferred(UpsertRequest.self) { [self] ctx, req, done in
            writes.submit { [self] in upsert(ctx, req, done) }
        })
        installMirrors(on: server, writes: writes)
        server.register(.search, .deferred(SearchRequest.self) { [self] ctx, req, done in
            if queuedSearches.load(ordering: .relaxed) == 0 && ctx.inlineTurnAvailable, let target = quickTarget(req), ctx.claimInlineTurn() {
                search(ctx, req, done, quick: target)
            } else {
                queueSearch(ctx, req, done)
            }
        })
    }

    /// Stops the store threads and closes every collection (checkpointing them).
    func stop() {
        reads.stop()
        writes.stop()
        do { try catalog.closeAll() } catch { log.error("closing collections: \(error)") }
    }

    // MARK: Plumbing

    func on<R: ProtoMessage>(_ queue: WorkQueue, _ ctx: CallContext, _ done: @escaping @Sendable (Result<R, RPCError>) -> Void,
                                     _ body: @escaping @Sendable () throws(RPCError) -> R) {
        let ok = queue.submit {
            do throws(RPCError) {
                try ctx.checkAlive()
                done(.success(try body()))
            } catch {
                done(.failure(error))
            }
        }
        if !ok { done(.failure(RPCError(.unavailable, "the server is shutting down"))) }
    }

    static func rpc(_ e: StoreError) -> RPCError {
        switch e {
        case .invalidArgument(let m): return RPCError(.invalidArgument, m)
        case .collectionNotFound(let n): return RPCError(.notFound, "collection '\(n)' does not exist")
        case .collectionExists(let n): return RPCError(.alreadyExists, "collection '\(n)' already exists")
        case .collectionLocked: return RPCError(.failedPrecondition, e.description)
        case .corrupt: return RPCError(.dataLoss, e.description)
        case .io(let path, let op, let errno) where e.isOutOfSpace:
            // The disk, not the daemon, is at fault, and the collection goes on serving reads.
            return RPCError(.resourceExhausted, "the disk holding \(path) is full (\(op): \(errno)): nothing was stored; reads continue, "
                            + "and writes work again once space is freed")
        case .io, .failed: return RPCError(.internal, e.description)
        case .closed(let n): return RPCError(.aborted, "collection '\(n)' was dropped or closed during the call")
        case .resultTooLarge(let m): return RPCError(.resourceExhausted, m)
        case .failedPrecondition(let m): return RPCError(.failedPrecondition, m)
        }
    }

    enum Access { case read, write }

    /// Opens a collection and checks the caller's permission.
    func open(_ name: String, _ ctx: CallContext, _ access: Access) throws(RPCError) -> (VectorCollection, CollectionBinding) {
        guard !name.isEmpty else { throw RPCError(.invalidArgument, "no collection named in the request") }
        let c: VectorCollection
        do { c = try catalog.open(name) } catch { throw StoreService.rpc(error) }
        let b = try binding(of: c)
        try authorize(name, b, ctx, access)
        return (c, b)
    }

    private func authorize(_ name: String, _ b: CollectionBinding, _ ctx: CallContext, _ access: Access) throws(RPCError) {
        switch access {
        case .read:
            guard b.canRead(ctx) else {
                throw RPCError(.permissionDenied, "collection '\(name)': uid \(ctx.peer.uid) has no read permission (ask its owner, uid \(b.ownerUID), for reader access)")
            }
        case .write:
            guard b.canWrite(ctx) else {
                throw RPCError(.permissionDenied, "collection '\(name)': uid \(ctx.peer.uid) has no write permission (only its owner uid \(b.ownerUID), the listed writers, uid 0 and the admin group may write)")
            }
        }
    }

    func binding(of c: VectorCollection) throws(RPCError) -> CollectionBinding {
        if let e = bindings.withLock({ $0[c.name] }), e.collection === c {
            return LegacySpaceID.parse(e.binding.space) == nil ? e.binding : rebound(c, e.binding)
        }
        var b: CollectionBinding
        if let loaded = try CollectionBinding.load(from: c.directory) {
            b = loaded
        } else {
            // Created by the store alone (or a crash between create and the binding file):
            // fail closed, only admins may write; the space is known from the store's config.
            log.warning("collection '\(c.name)' has no \(CollectionBinding.fileName); only uid 0 and the admin group may use it until one is written back")
            b = CollectionBinding.adminOnly(space: c.config.spaceID ?? "")
        }
        let final = b
        bindings.withLock { $0[c.name] = BindingEntry(c, final) }
        return LegacySpaceID.parse(b.space) == nil ? b : rebound(c, b)
    }

    /// A binding under an earlier release's space id (`FAMILY/FOLDER@fnv64:HASH`), moved to the
    /// new-style id of its model when that model is loaded and has the same fingerprint
    /// (`LegacySpaceID`): the file is rewritten atomically and the move logged. Until the model
    /// is loaded, or when its fingerprint differs (other weights under that name), the binding
    /// stays as it is, and calls that embed are refused as before. The store's own
    /// `collection.meta` keeps the old id: it is read only when the binding file is missing.
    private func rebound(_ c: VectorCollection, _ b: CollectionBinding) -> CollectionBinding {
        guard !b.isRaw, let m = embed.loadedModel(named: b.model), m.info.dimension == c.config.dimension,
              LegacySpaceID.matches(legacy: b.space, space: m.info.embeddingSpace, version: m.info.version) else { return b }
        return rebinds.withLock { _ in
            // Another thread may have done it meanwhile.
            if let e = bindings.withLock({ $0[c.name] }), e.collection === c, e.binding.space != b.space { return e.binding }
            var new = b
            new.space = m.info.embeddingSpace
            do {
                try new.save(in: c.directory)
                log.notice("collection '\(c.name)': rebound from space \(b.space) to \(new.space): model '\(b.model)' has the same fingerprint (space ids no longer name the model's folder)")
            } catch {
                // Served under the new id all the same; the file is rewritten on a later try
                // (after a restart, when the collection is first used).
                log.warning("collection '\(c.name)': cannot rewrite \(c.directory)/\(CollectionBinding.fileName) with space \(new.space): \(error); using it in memory")
            }
            let saved = new
            bindings.withLock { $0[c.name] = BindingEntry(c, saved) }
            return new
        }
    }

    private func info(_ c: VectorCollection, _ b: CollectionBinding, _ ctx: CallContext, stats: Bool) -> CollectionInfo {
        var i = CollectionInfo(name: c.name, model: b.model, embeddingSpace: b.space, dimension: UInt32(c.config.dimension),
                               metric: c.config.metric.rawValue, storage: c.config.storage.rawValue, count: UInt64(c.count), acl: b.acl,
                               createdUnixMs: b.createdUnixMilliseconds, hnswM: UInt32(c.config.hnsw.m),
                               hnswEfConstruction: UInt32(c.config.hnsw.efConstruction), hnswEf: UInt32(c.config.hnsw.ef),
                               canRead: b.canRead(ctx), canWrite: b.canWrite(ctx), documents: b.documents)
        i.addPrompt = b.addPrompt
        i.queryPrompt = b.queryPrompt
        if stats {
            let s = c.stats()
            i.stats = EmbedWire.CollectionStats(count: UInt64(s.count), deleted: UInt64(s.deleted), unindexed: UInt64(s.unindexed),
                                                nodes: UInt64(s.nodes), maxLevel: Int32(s.maxLevel), walBytes: UInt64(max(0, s.walBytes)),
                                                snapshotBytes: UInt64(max(0, s.snapshotBytes)), memoryBytes: UInt64(s.memoryBytes),
                                                lastSequence: s.lastSequence, checkpointSequence: s.checkpointSequence)
            StoreService.addMirrors(c, to: &i)
        }
        if let e = c.failureReason ?? c.writeFailureReason {
            // Damage found after open (the background check) or a failed fsync: the collection
            // is still listed and described, so say why its calls fail.
            i.error = StoreService.rpc(e).message
        } else if !b.isRaw {
            do throws(RPCError) { _ = try boundModel(c, b, ctx: nil) } catch { i.error = error.message }
        }
        return i
    }

    // MARK: Models and spaces

    private func describe(_ c: VectorCollection, _ b: CollectionBinding) -> String {
        b.isRaw ? "raw \(c.config.dimension)-dimensional collection '\(c.name)'"
            : "collection '\(c.name)' belongs to model '\(b.model)' (space \(b.space), dimension \(c.config.dimension))"
    }

    /// The loaded model a bound collection embeds with, after checking that it still produces
    /// vectors of the collection's space and dimension (a hot swap may have changed them).
    private func boundModel(_ c: VectorCollection, _ b: CollectionBinding, ctx: CallContext?) throws(RPCError) -> ModelSummary {
        guard let m = embed.loadedModel(named: b.model) else {
            if let e = embed.configuredModel(b.model) {
                switch e.state {
                case .loading: throw RPCError(.unavailable, "model '\(b.model)' of collection '\(c.name)' is still loading; retry shortly")
                case .failed: throw RPCError(.failedPrecondition, "model '\(b.model)' of collection '\(c.name)' failed to load: \(e.error)")
                default: break
                }
            }
            throw RPCError(.failedPrecondition, "\(describe(c, b)), which is not loaded: load it to embed inputs (vectors can still be used)")
        }
        guard m.info.embeddingSpace == b.space, m.info.dimension == c.config.dimension else {
            // FAILED_PRECONDITION rather than INVALID_ARGUMENT: the request is fine, the
            // daemon's state (the model swapped under the collection) is what must change.
            throw RPCError(.failedPrecondition, "\(describe(c, b)), but '\(b.model)' is now loaded with space \(m.info.embeddingSpace) (dimension \(m.info.dimension)): vectors of the two spaces are not comparable; load a model of space \(b.space) under that name or create a new collection")
        }
        return m
    }

    /// A request may name the model it expects; it must embed into the collection's space.
    private func checkRequestedModel(_ name: String, _ c: VectorCollection, _ b: CollectionBinding) throws(RPCError) {
        guard !name.isEmpty, name != b.model else { return }
        if let m = embed.loadedModel(named: name), !b.isRaw, m.info.embeddingSpace == b.space, m.info.dimension == c.config.dimension {
            return  // another model of the same space (e.g. the text and image towers of one CLIP)
        }
        let theirs = embed.loadedModel(named: name).map { " (space \($0.info.embeddingSpace), dimension \($0.info.dimension))" } ?? ""
        throw RPCError(.invalidArgument, "\(describe(c, b)); the request names model '\(name)'\(theirs), whose vectors are not comparable")
    }

    private func checkVector(_ v: [Float], _ c: VectorCollection, _ b: CollectionBinding, what: String) throws(RPCError) {
        guard v.count == c.config.dimension else {
            throw RPCError(.invalidArgument, "\(what) has \(v.count) components; \(describe(c, b))")
        }
    }

    /// The prompt text for a call's text inputs, or nil for none: the one the call names
    /// (`asked`; INVALID_ARGUMENT when the model lacks it), else the collection's own
    /// (`stored`, its add_prompt or query_prompt; FAILED_PRECONDITION when a swap has taken it
    /// from the model), else the model's default prompt.
    private func promptText(asked: String, stored: String, option: String, _ c: VectorCollection, _ b: CollectionBinding) throws(RPCError) -> String? {
        let prompts = embed.prompts(of: b.model)
        if asked.isEmpty && !stored.isEmpty {
            do throws(PromptError) { return try prompts.resolve(asked: stored, model: b.model) } catch {
                throw RPCError(.failedPrecondition, "collection '\(c.name)' has \(option) '\(stored)', but \(error.message): name another prompt in the call, or recreate the collection")
            }
        }
        do throws(PromptError) { return try prompts.resolve(asked: asked, model: b.model) } catch {
            throw RPCError(.invalidArgument, error.message)
        }
    }

    /// Converts a wire input for the host, reading a passed file (problems with this one input
    /// throw); the model's modality is checked apart (`ModelSummary.requireKind`).
    private func hostInput(_ input: Input, _ ctx: CallContext, _ model: ModelSummary, what: String) throws(RPCError) -> EmbedInput {
        var i = input
        if case .file(let f) = input.kind {
            i = try ctx.fileInput(f, limit: embed.config.limits.maxFrameBytes, textOnly: !model.info.inputKinds.contains(.encoded), what: what)
        }
        guard let converted = try EmbedInput(wire: i, what: what) else { throw RPCError(.internal, "\(what): unresolved file") }
        return try model.textIfUntypedMedia(converted, what: what)
    }

    /// An input for a collection bound to `bound`, with the model that embeds it
    /// (`EmbedService.route`): a video file goes to the video model of the collection's space,
    /// as an open file when that model reads files itself. Problems with this one input throw.
    private func routedInput(_ input: Input, _ ctx: CallContext, bound: ModelSummary, what: String) throws(RPCError) -> (EmbedInput, ModelSummary) {
        if case .file(let f) = input.kind,
           let opened = try ctx.openFileInput(f, what: what, sniff: true, opens: { [embed] mime in
               embed.route(mimeType: mime, bound: bound)?.info.inputKinds.contains(.file) == true
           }), case .file(_, let mime) = opened, let target = embed.route(mimeType: mime, bound: bound) {
            return (opened, target)
        }
        let converted = try hostInput(input, ctx, bound, what: what)
        if case .encoded(_, let mime) = converted, let target = embed.route(mimeType: mime, bound: bound) {
            return (converted, target)
        }
        return (converted, bound)
    }

    /// Embeds inputs that go to different models of one collection's space (texts and pictures
    /// to CLIP, videos to the video model): one batcher call per model, in turn; `then` gets
    /// the rows in input order. Fails as a whole when any model's rows come from another space.
    private func embedRouted(_ inputs: [(input: EmbedInput, model: String)], _ ctx: CallContext, on queue: WorkQueue,
                             _ c: VectorCollection, _ b: CollectionBinding, truncation: Truncation, segments: Bool,
                             fail: @escaping @Sendable (RPCError) -> Void, then: @escaping @Sendable (BatchSlice) -> Void) {
        var groups: [(model: String, rows: [Int])] = []
        for (i, x) in inputs.enumerated() {
            if let g = groups.firstIndex(where: { $0.model == x.model }) { groups[g].rows.append(i) } else { groups.append((x.model, [i])) }
        }
        let dim = c.config.dimension
        let plan = groups
        @Sendable func step(_ g: Int, _ merged: BatchSlice) {
            guard g < plan.count else { then(merged); return }
            let (model, rows) = plan[g]
            embedThenContinue(model, rows.map { inputs[$0].input }, ctx, on: queue, truncation: truncation, segments: segments,
                              fail: fail) { [self] slice in
                if let e = spaceChanged(slice, c, b, model: model) { fail(e); return }
                var vectors = merged.vectors, failures = merged.failures, usage = merged.usage, found = merged.segments
                for (k, row) in rows.enumerated() {
                    vectors.replaceSubrange(row * dim ..< (row + 1) * dim, with: slice.vectors[k * dim ..< (k + 1) * dim])
                    failures[row] = slice.failures[k]
                    usage[row] = slice.usage[k]
                    if !slice.segments.isEmpty { found[row] = slice.segments[k] }
                }
                var next = BatchSlice(dimension: dim, vectors: vectors, failures: failures, usage: usage,
                                      modelVersion: g == 0 ? slice.modelVersion : merged.modelVersion,
                                      generation: g == 0 ? slice.generation : merged.generation, embeddingSpace: b.space)
                next.segments = found
                step(g + 1, next)
            }
        }
        var start = BatchSlice(dimension: dim, vectors: [Float](repeating: 0, count: inputs.count * dim),
                               failures: [InputFailure?](repeating: nil, count: inputs.count),
                               usage: [TokenUsage](repeating: TokenUsage(), count: inputs.count),
                               modelVersion: "", generation: 0, embeddingSpace: b.space)
        start.segments = Array(repeating: [], count: inputs.count)
        step(0, start)
    }

    /// FAILED_PRECONDITION when the rows were computed in another space (or dimension) than
    /// the collection's — the model was swapped while the call waited in its queue; nil when
    /// they match.
    private func spaceChanged(_ slice: BatchSlice, _ c: VectorCollection, _ b: CollectionBinding, model: String? = nil) -> RPCError? {
        guard slice.embeddingSpace != b.space || slice.dimension != c.config.dimension else { return nil }
        return RPCError(.failedPrecondition, "\(describe(c, b)), but model '\(model ?? b.model)' was swapped to space \(slice.embeddingSpace) "
                        + "(dimension \(slice.dimension)) while this call waited: its vectors are not comparable with the "
                        + "collection's; nothing was stored or searched")
    }

    /// Embeds `inputs` through the model's batcher; `then` runs on `queue` with the rows.
    private func embedThenContinue(_ model: String, _ inputs: [EmbedInput], _ ctx: CallContext, on queue: WorkQueue,
                                   truncation: Truncation, segments: Bool = false,
                                   fail: @escaping @Sendable (RPCError) -> Void,
                                   then: @escaping @Sendable (BatchSlice) -> Void) {
        let batcher: ModelBatcher
        do throws(RPCError) { batcher = try embed.batcher(for: model) } catch {
            fail(error)
            return
        }
        var job = EmbedJob(inputs: inputs, caller: ctx.connection, cancellation: ctx.cancellation, deadline: ctx.deadline,
                           queuedAt: Clock.monotonicNanoseconds(), refuseTruncation: embed.refusesTruncation(model, truncation)) {
            result in
            switch result {
            case .failure(let e): fail(e)
            case .success(let slice):
                if !queue.submit({ then(slice) }) { fail(RPCError(.unavailable, "the server is shutting down")) }
            }
        }
        job.segments = segments
        if let refused = batcher.submit(job) { fail(refused) }
    }

    // MARK: Create, drop, list

    private func create(_ ctx: CallContext, _ req: CreateCollectionRequest) throws(RPCError) -> CollectionInfo {
        do { try StoreCatalog.validate(name: req.name) } catch { throw StoreService.rpc(error) }
        var binding = CollectionBinding(ownerUID: ctx.peer.uid, createdUnixMilliseconds: Clock.realtimeMicroseconds() / 1000)
        binding.documents = !req.noDocuments
        if let acl = req.acl {
            binding.restrictRead = acl.restrictRead
            binding.readerUIDs = acl.readerUids
            binding.readerGIDs = acl.readerGids
            binding.writerUIDs = acl.writerUids
            binding.writerGIDs = acl.writerGids
        }
        var metric: EmbedStore.Metric
        let dimension: Int
        if !req.model.isEmpty {
            guard let m = embed.loadedModel(named: req.model) else {
                let names = embed.loadedModelNames()
                throw RPCError(.notFound, "cannot bind collection '\(req.name)' to model '\(req.model)': no such model is loaded (loaded: \(names.isEmpty ? "none" : names.joined(separator: ", ")))")
            }
            if req.dimension != 0 && Int(req.dimension) != m.info.dimension {
                throw RPCError(.invalidArgument, "model '\(req.model)' produces \(m.info.dimension)-dimensional vectors (space \(m.info.embeddingSpace)); dimension \(req.dimension) contradicts it (leave dimension 0 with a model)")
            }
            guard let modelMetric = EmbedStore.Metric(name: m.info.metric.rawValue) else {
                throw RPCError(.internal, "model '\(req.model)' reports an unknown metric \(m.info.metric.rawValue)")
            }
            metric = modelMetric
            if !req.metric.isEmpty {
                guard let asked = EmbedStore.Metric(name: req.metric), asked == modelMetric else {
                    throw RPCError(.invalidArgument, "model '\(req.model)' (space \(m.info.embeddingSpace)) compares vectors with \(modelMetric.rawValue); a collection bound to it cannot use metric '\(req.metric)' (use a raw collection for that)")
                }
            }
            dimension = m.info.dimension
            binding.model = req.model
            binding.space = m.info.embeddingSpace
            for (name, option) in [(req.addPrompt, "add_prompt"), (req.queryPrompt, "query_prompt")] where !name.isEmpty {
                // The binding file holds one name per line.
                guard !name.contains(where: \.isNewline) else { throw RPCError(.invalidArgument, "\(option) must not contain a line break") }
                do throws(PromptError) { try embed.prompts(of: req.model).check(name, model: req.model) } catch {
                    throw RPCError(.invalidArgument, "\(option): \(error.message)")
                }
            }
            binding.addPrompt = req.addPrompt
            binding.queryPrompt = req.queryPrompt
        } else {
            guard req.addPrompt.isEmpty && req.queryPrompt.isEmpty else {
                throw RPCError(.invalidArgument, "add_prompt and query_prompt name prompts of the collection's model; a raw collection (dimension \(req.dimension)) has no model")
            }
            guard req.dimension > 0 else {
                throw RPCError(.invalidArgument, "CreateCollection needs a model (to bind the collection to) or a dimension (for a raw collection)")
            }
            dimension = Int(req.dimension)
            if req.metric.isEmpty {
                metric = .cosine
            } else {
                guard let m = EmbedStore.Metric(name: req.metric) else {
                    throw RPCError(.invalidArgument, "unknown metric '\(req.metric)' (use cosine, l2 or ip)")
                }
                metric = m
            }
        }
        let storage: StorageType
        if req.storage.isEmpty {
            storage = .f32
        } else if let s = StorageType(rawValue: req.storage) {
            storage = s
        } else {
            throw RPCError(.invalidArgument, "unknown storage '\(req.storage)' (use f32, f16 or int8)")
        }
        var hnsw = HNSWParameters()
        if req.hnswM > 0 { hnsw.m = Int(req.hnswM) }
        if req.hnswEfConstruction > 0 { hnsw.efConstruction = Int(req.hnswEfConstruction) }
        else if hnsw.efConstruction < hnsw.m { hnsw.efConstruction = hnsw.m }
        if req.hnswEf > 0 { hnsw.ef = Int(req.hnswEf) }
        let config = CollectionConfig(dimension: dimension, metric: metric, spaceID: binding.isRaw ? nil : binding.space,
                                      storage: storage, hnsw: hnsw)
        return try ddl.withLock { _ throws(RPCError) -> CollectionInfo in
            if FileSystem.isRegularFile(catalog.directory + "/" + req.name + "/collection.meta") {
                // Existence first (ALREADY_EXISTS even for callers who may not read it; the
                // name, model and shape are public through ListCollections anyway).
                let c: VectorCollection
                do throws(StoreError) { c = try catalog.open(req.name) } catch { throw StoreService.rpc(error) }
                let b = try self.binding(of: c)
                if req.existOk && b.model == binding.model && b.space == binding.space && c.config.dimension == dimension
                    && c.config.metric == metric && b.addPrompt == binding.addPrompt && b.queryPrompt == binding.queryPrompt {
                    var i = info(c, b, ctx, stats: false)
                    if !b.canRead(ctx) { i.count = 0 }
                    return i
                }
                throw RPCError(.alreadyExists, "collection '\(req.name)' already exists (\(describe(c, b)))")
            }
            let c: VectorCollection
            do throws(StoreError) { c = try catalog.create(req.name, config: config) } catch { throw StoreService.rpc(error) }
            do {
                try binding.save(in: c.directory)
            } catch {
                try? catalog.drop(req.name)
                throw RPCError(.internal, "cannot write \(c.directory)/\(CollectionBinding.fileName): \(error); the collection was not created")
            }
            let saved = binding
            bindings.withLock { $0[req.name] = BindingEntry(c, saved) }
            log.notice("collection '\(req.name)' created by uid \(ctx.peer.uid): \(describe(c, binding)), metric \(metric.rawValue)")
            return info(c, binding, ctx, stats: false)
        }
    }

    private func drop(_ ctx: CallContext, _ name: String) throws(RPCError) {
        try ddl.withLock { _ throws(RPCError) in
            _ = try open(name, ctx, .write)
            do throws(StoreError) { try catalog.drop(name) } catch { throw StoreService.rpc(error) }
            bindings.withLock { $0[name] = nil }
            log.notice("collection '\(name)' dropped by uid \(ctx.peer.uid)")
        }
    }

    /// Waits (within the call's deadline) until every acknowledged record is linked, so the
    /// new order covers them all, then checkpoints through a graph-order compaction. A drop
    /// meanwhile waits for the copy (it takes the log's leadership, which the copy holds), so
    /// the snapshot never lands in a re-created directory; other collections are not held up.
    private func optimize(_ ctx: CallContext, _ name: String) throws(RPCError) -> CollectionInfo {
        let (c, b) = try open(name, ctx, .write)
        while true {
            let unindexed = c.stats().unindexed
            if unindexed == 0 { break }
            if let e = c.failureReason { throw StoreService.rpc(e) }
            if ctx.cancellation.isCancelled { throw RPCError(.cancelled, "the call was cancelled") }
            if Clock.monotonicNanoseconds() >= ctx.deadline {
                throw RPCError(.deadlineExceeded, "collection '\(name)': \(unindexed) records are still being linked into the graph; "
                               + "nothing was optimized (retry when indexing has caught up, or with a longer deadline)")
            }
            ChildProcess.sleep(seconds: 0.005)
        }
        let started = Clock.monotonicNanoseconds()
        do throws(StoreError) { try c.optimize() } catch { throw StoreService.rpc(error) }
        let ms = (Clock.monotonicNanoseconds() - started) / 1_000_000
        log.notice("collection '\(name)' optimized by uid \(ctx.peer.uid) in \(ms) ms (\(c.count) records)")
        return info(c, b, ctx, stats: true)
    }

    private func list(_ ctx: CallContext, stats: Bool, readableOnly: Bool) throws(RPCError) -> [CollectionInfo] {
        let names: [String]
        do { names = try catalog.list() } catch { throw StoreService.rpc(error) }
        var out: [CollectionInfo] = []
        for n in names {
            do throws(RPCError) {
                let c: VectorCollection
                do { c = try catalog.open(n) } catch { throw StoreService.rpc(error) }
                let b = try binding(of: c)
                if readableOnly && !b.canRead(ctx) { continue }
                var i = info(c, b, ctx, stats: stats && b.canRead(ctx))
                if !b.canRead(ctx) { i.count = 0 }
                out.append(i)
            } catch {
                if !readableOnly { out.append(CollectionInfo(name: n, error: error.message)) }
            }
        }
        return out
    }

    // MARK: Records

    private func get(_ ctx: CallContext, _ req: GetRequest) throws(RPCError) -> GetResponse {
        let (c, _) = try open(req.collection, ctx, .read)
        let r: Record?
        do { r = try c.get(req.key) } catch { throw StoreService.rpc(error) }
        guard let r else { throw RPCError(.notFound, "no record with key '\(req.key)' in collection '\(req.collection)'") }
        return GetResponse(key: r.key, vector: Vector(values: r.vector), metadata: r.metadata ?? "", document: r.document ?? "")
    }

    private func delete(_ ctx: CallContext, _ req: DeleteRequest) throws(RPCError) -> DeleteResponse {
        let (c, _) = try open(req.collection, ctx, .write)
        let limit = embed.config.limits.maxInputsPerCall
        guard req.keys.count <= limit else {
            throw RPCError(.invalidArgument, "\(req.keys.count) keys in one Delete; the limit is \(limit) (limits.max_inputs_per_call): split the request")
        }
        for k in req.keys where k.isEmpty || k.utf8.count > 1024 {
            throw RPCError(.invalidArgument, "key '\(k.prefix(40))' must be 1…1024 bytes of UTF-8")
        }
        do {
            // An item's segment records (UpsertRequest.segments) go with it, in the same write.
            var segments: [String] = []
            let asked = Set(req.keys)
            for k in req.keys {
                segments += SegmentRecords.storedKeys(of: k, metadata: try c.get(k)?.metadata).filter { !asked.contains($0) }
            }
            guard !segments.isEmpty else { return DeleteResponse(deleted: UInt64(try c.delete(req.keys))) }
            let deletedSegments = segments.reduce(0) { n, k in n + ((try? c.get(k)) != nil ? 1 : 0) }
            let total = try c.delete(req.keys + segments)
            return DeleteResponse(deleted: UInt64(max(0, total - deletedSegments)), segments: UInt64(deletedSegments))
        } catch { throw StoreService.rpc(error) }
    }

    /// Upsert: checks on the write queue, embeds through the batcher, stores on the write queue.
    private func upsert(_ ctx: CallContext, _ req: UpsertRequest, _ done: @escaping @Sendable (Result<UpsertResponse, RPCError>) -> Void) {
        var results: [UpsertResult] = []
        var records: [Int: [Record]] = [:]   // item index → its record (and its segments' records) ready to store
        var toEmbed: [(index: Int, input: EmbedInput, model: String)] = []
        var documents: [Int: String] = [:]  // item index → the document recorded with it
        let c: VectorCollection
        let b: CollectionBinding
        // Whether stored items may have segment records to replace (an audio or video model).
        var replacesSegments = req.segments
        // Prepended to text items (`promptText`).
        var prompt: String?
        do throws(RPCError) {
            try ctx.checkAlive()
            (c, b) = try open(req.collection, ctx, .write)
            guard !req.items.isEmpty else { throw RPCError(.invalidArgument, "Upsert needs at least one item") }
            let limit = embed.config.limits.maxInputsPerCall
            guard req.items.count <= limit else {
                throw RPCError(.invalidArgument, "\(req.items.count) items in one Upsert; the limit is \(limit) (limits.max_inputs_per_call): split the request")
            }
            try checkRequestedModel(req.model, c, b)
            let needsModel = req.items.contains { if case .input = $0.value { return true } else { return false } }
            var model: ModelSummary?
            if needsModel {
                guard !b.isRaw else {
                    throw RPCError(.invalidArgument, "\(describe(c, b)) has no model: send vectors, not inputs")
                }
                // A model still loading: the call waits for it (within its deadline), then starts over.
                if embed.waitingForLoad(of: b.model, ctx, { [self] in
                    if !writes.submit({ [self] in upsert(ctx, req, done) }) { done(.failure(RPCError(.unavailable, "the server is shutting down"))) }
                }) {
                    return
                }
                model = try boundModel(c, b, ctx: ctx)
                prompt = try promptText(asked: req.prompt, stored: b.addPrompt, option: "add_prompt", c, b)
            }
            let segmentSeconds = (model ?? (b.isRaw ? nil : embed.loadedModel(named: b.model)))?.info.segmentSeconds ?? 0
            if req.segments && !needsModel {
                throw RPCError(.invalidArgument, "segments are computed by the collection's model: send inputs, not vectors, or leave segments off")
            }
            // A model of the collection's space that cuts inputs into windows (a video model
            // beside a CLIP model) may have stored segments under any key.
            replacesSegments = replacesSegments || segmentSeconds > 0
                || (!b.isRaw && embed.loadedModels().contains { $0.info.embeddingSpace == b.space && $0.info.segmentSeconds > 0 })
            results.reserveCapacity(req.items.count)
            for (i, item) in req.items.enumerated() {
                var result = UpsertResult(key: item.key, outcome: .failed)
                defer { results.append(result) }
                if item.key.isEmpty || item.key.utf8.count > 1024 {
                    result.error = "key must be 1…1024 bytes of UTF-8"
                    continue
                }
                // A NUL would cut the key short in every C string, shell and export it reaches.
                if item.key.utf8.contains(0) {
                    result.error = "key must not contain NUL (U+0000)"
                    continue
                }
                if !item.metadata.isEmpty {
                    if let problem = Record.metadataProblem(item.metadata) {
                        result.error = problem
                        continue
                    }
                    if req.segments, let problem = SegmentRecords.reservedFieldProblem(item.metadata) {
                        result.error = problem
                        continue
                    }
                    if item.metadata.utf8.count > 65536 {
                        result.error = "metadata is \(item.metadata.utf8.count) bytes; the limit is 65536"
                        continue
                    }
                }
                if !item.document.isEmpty, let problem = RecordDocuments.problem(explicit: item.document) {
                    result.error = problem
                    continue
                }
                if req.skipExisting {
                    let exists: Bool
                    do { exists = try c.get(item.key) != nil } catch { throw StoreService.rpc(error) }
                    if exists { result.outcome = .skippedExisting; continue }
                }
                switch item.value {
                case .none:
                    result.error = "item has neither an input nor a vector"
                case .vector(let v):
                    try checkVector(v.values, c, b, what: "the vector of item \(i) (key '\(item.key)')")
                    if let problem = c.vectorProblem(v.values) {
                        result.error = problem
                    } else {
                        result.outcome = .unknown
                        let document = RecordDocuments.document(input: nil, converted: nil, explicit: item.document, record: b.documents)
                        records[i] = [Record(key: item.key, vector: v.values, metadata: item.metadata.isEmpty ? nil : item.metadata,
                                             document: document)]
                    }
                case .input(let input):
                    let what = "item \(i) (key '\(item.key)')"
                    let converted: EmbedInput
                    let target: ModelSummary
                    do throws(RPCError) { (converted, target) = try routedInput(input, ctx, bound: model!, what: what) } catch {
                        result.error = error.message  // this item's problem: it fails alone
                        break
                    }
                    try target.requireKind(of: converted, what: what)  // the wrong model for the call: all of it fails
                    toEmbed.append((i, converted.prompted(prompt), target.name))
                    // The document keeps the source text, without the prompt.
                    documents[i] = RecordDocuments.document(input: input, converted: converted, explicit: item.document, record: b.documents)
                    result.outcome = .unknown
                }
            }
            if req.segments, !toEmbed.isEmpty,
               !toEmbed.contains(where: { (embed.loadedModel(named: $0.model)?.info.segmentSeconds ?? 0) > 0 }) {
                throw RPCError(.invalidArgument, "model '\(b.model)' of collection '\(c.name)' returns no segments (only audio and video models cut their inputs into time windows); leave segments off")
            }
        } catch {
            done(.failure(error))
            return
        }
        let partial = results
        let ready = records
        let itemDocuments = documents
        let checkSegments = replacesSegments
        let store: @Sendable ([UpsertResult], [Int: [Record]], SoundRecords?) -> Void = { [self] results, records, sound in
            var results = results
            do throws(RPCError) {
                try ctx.checkAlive()
                let order = records.keys.sorted()
                if !order.isEmpty {
                    do throws(StoreError) {
                        try write(order.map { records[$0]! }, into: c, replacingSegments: checkSegments)
                    } catch {
                        if case .invalidArgument(let m) = error {
                            for i in order { results[i].outcome = .failed; results[i].error = m }
                        } else {
                            throw StoreService.rpc(error)
                        }
                    }
                }
                for i in order where results[i].outcome == .unknown {
                    results[i].outcome = .stored
                    results[i].segments = UInt32(records[i]!.count - 1)
                }
                // The sound vectors, after the pictures' write (derived data: a crash between
                // the two leaves a video without its sound vector, which a re-add restores).
                if let sound {
                    let stored = sound.records.keys.filter { results[$0].outcome == .stored }.sorted()
                    // A video stored without a sound vector this time (none, or it failed)
                    // replaces one that may have had it: that vector, and its segments, were
                    // the old video's sound, not this one's.
                    let silent = results.indices.filter {
                        results[$0].outcome == .stored && sound.records[$0] == nil && (results[$0].sound == .absent || results[$0].sound == .failed)
                    }
                    do throws(StoreError) {
                        if !silent.isEmpty { try deleteWithSegments(silent.map { results[$0].key }, from: sound.collection) }
                        if !stored.isEmpty { try write(stored.map { sound.records[$0]! }, into: sound.collection, replacingSegments: true) }
                        for i in stored {
                            results[i].sound = .stored
                            results[i].soundCollection = sound.collection.name
                        }
                    } catch {
                        for i in stored { results[i].sound = .failed; results[i].soundError = StoreService.rpc(error).message }
                    }
                }
                var response = UpsertResponse(results: results)
                for r in results {
                    switch r.outcome {
                    case .stored:
                        response.stored += 1
                        if r.usage?.truncated == true { response.truncated += 1 }
                    case .skippedExisting: response.skipped += 1
                    default: response.failed += 1
                    }
                }
                done(.success(response))
            } catch {
                done(.failure(error))
            }
        }
        guard !toEmbed.isEmpty else {
            store(partial, ready, nil)
            return
        }
        let pending = toEmbed
        // Videos whose model names an audio model: their sound tracks are embedded at the same
        // time as their pictures (the two models' queues work side by side; decoding waits on
        // seeks more than on the cores), and stored once both are done.
        let videos = pending.filter { embed.options(of: $0.model)["audio_model"] != nil }
        // One audio model per call (that of the first video's model): a second video model of
        // the same space with another audio model is rare enough to refuse by name.
        let audioModel = videos.first.map { embed.options(of: $0.model)["audio_model"]! }
        let join = UpsertJoin(expectsSound: audioModel != nil)
        let finish: @Sendable (BatchSlice, SoundRecords?, [Int: (outcome: SoundOutcome, error: String)]) -> Void = { [self] slice, sound, notes in
            var results = partial
            var records = ready
            for (row, p) in pending.enumerated() {
                let index = p.index
                let item = req.items[index]
                results[index].usage = EmbedWire.InputUsage(slice.usage[row])
                if let f = slice.failures[row] {
                    results[index].outcome = .failed
                    results[index].error = f.message
                } else if let problem = c.vectorProblem(slice.vector(at: row)) {
                    results[index].outcome = .failed
                    results[index].error = "model '\(p.model)' returned a vector the collection cannot store: \(problem)"
                } else {
                    let segments = slice.segments.isEmpty ? [] : slice.segments[row]
                    do throws(RPCError) {
                        records[index] = try SegmentRecords.records(key: item.key, vector: slice.vector(at: row),
                                                                    metadata: item.metadata, document: itemDocuments[index],
                                                                    segments: segments)
                    } catch {
                        results[index].outcome = .failed
                        results[index].error = error.message
                    }
                }
            }
            for p in videos where records[p.index] != nil {
                if embed.options(of: p.model)["audio_model"] != audioModel {
                    results[p.index].sound = .failed
                    results[p.index].soundError = "its model '\(p.model)' names another audio model than '\(audioModel ?? "")'; add it in a call of its own"
                } else if let note = notes[p.index] {
                    results[p.index].sound = note.outcome
                    results[p.index].soundError = note.error
                }
            }
            store(results, records, sound)
        }
        embedRouted(pending.map { ($0.input, $0.model) }, ctx, on: writes, c, b, truncation: req.truncation, segments: req.segments,
                    fail: { e in if join.fail() { done(.failure(e)) } }) { slice in
            join.frames(slice, finish)
        }
        if let audioModel {
            let sounded = videos.filter { embed.options(of: $0.model)["audio_model"] == audioModel }
            embedSound(sounded.map { (index: $0.index, input: $0.input, document: itemDocuments[$0.index]) }, with: audioModel, req, c, b, ctx) { sound, notes in
                join.sound(sound, notes, finish)
            }
        }
    }

    /// Joins an Upsert's picture rows and its videos' sound (computed side by side): whichever
    /// comes second runs the finish; a failed picture call wins over everything.
    final class UpsertJoin: Sendable {
        private struct State {
            var slice: BatchSlice?
            var sound: (records: SoundRecords?, notes: [Int: (outcome: SoundOutcome, error: String)])?
            var failed = false
        }
        private let state: Mutex<State>
        init(expectsSound: Bool) {
            state = Mutex(State(sound: expectsSound ? nil : (nil, [:])))
        }
        typealias Finish = @Sendable (BatchSlice, SoundRecords?, [Int: (outcome: SoundOutcome, error: String)]) -> Void

        /// Marks the call failed; true the first time (the caller answers it then).
        func fail() -> Bool { state.withLock { s in defer { s.failed = true }; return !s.failed } }

        func frames(_ slice: BatchSlice, _ finish: Finish) {
            let ready = state.withLock { s -> (BatchSlice, SoundRecords?, [Int: (outcome: SoundOutcome, error: String)])? in
                s.slice = slice
                guard !s.failed, let sound = s.sound else { return nil }
                return (slice, sound.records, sound.notes)
            }
            if let ready { finish(ready.0, ready.1, ready.2) }
        }

        func sound(_ records: SoundRecords?, _ notes: [Int: (outcome: SoundOutcome, error: String)], _ finish: Finish) {
            let ready = state.withLock { s -> BatchSlice? in
                s.sound = (records, notes)
                guard !s.failed else { return nil }
                return s.slice
            }
            if let ready { finish(ready, records, notes) }
        }
    }

    /// Embeds videos' sound tracks with `audioModel` for the sound collection (created on
    /// first use, bound to that model, with the video collection's access list). `then` gets
    /// the records to store and a note per video whose sound is absent or failed; a sound
    /// problem never fails the video's picture vector.
    private func embedSound(_ videos: [(index: Int, input: EmbedInput, document: String?)], with audioModel: String, _ req: UpsertRequest,
                            _ c: VectorCollection, _ b: CollectionBinding, _ ctx: CallContext,
                            then: @escaping @Sendable (SoundRecords?, [Int: (outcome: SoundOutcome, error: String)]) -> Void) {
        let name = req.soundCollection.isEmpty ? c.name + ".sound" : req.soundCollection
        let failAll: @Sendable (String) -> Void = { message in
            then(nil, Dictionary(uniqueKeysWithValues: videos.map { ($0.index, (SoundOutcome.failed, message)) }))
        }
        let sc: VectorCollection, sb: CollectionBinding
        do throws(RPCError) {
            guard name != c.name else { throw RPCError(.invalidArgument, "the sound collection cannot be the video collection itself") }
            var create = CreateCollectionRequest()
            create.name = name
            create.model = audioModel
            create.existOk = true
            create.acl = b.acl
            _ = try self.create(ctx, create)
            (sc, sb) = try open(name, ctx, .write)
            let audio = try boundModel(sc, sb, ctx: ctx)
            guard audio.name == audioModel || audio.info.embeddingSpace == embed.loadedModel(named: audioModel)?.info.embeddingSpace else {
                throw RPCError(.failedPrecondition, "\(describe(sc, sb)), not to the audio model '\(audioModel)'")
            }
        } catch {
            failAll("sound collection '\(name)': \(error.message)")
            return
        }
        embedThenContinue(audioModel, videos.map(\.input), ctx, on: writes, truncation: .default, segments: req.segments,
                          fail: { failAll("sound track: \($0.message)") }) { [self] slice in
            if let e = spaceChanged(slice, sc, sb) {
                failAll(e.message)
                return
            }
            var records: [Int: [Record]] = [:]
            var notes: [Int: (outcome: SoundOutcome, error: String)] = [:]
            for (row, v) in videos.enumerated() {
                if let f = slice.failures[row] {
                    // The audio plugin says "no sound track: …" for a video without one.
                    notes[v.index] = f.code == .unsupportedInput && f.message.hasPrefix("no sound track") ? (.absent, f.message) : (.failed, f.message)
                    continue
                }
                let item = req.items[v.index]
                do throws(RPCError) {
                    records[v.index] = try SegmentRecords.records(key: item.key, vector: slice.vector(at: row), metadata: item.metadata,
                                                                  document: v.document, segments: slice.segments.isEmpty ? [] : slice.segments[row])
                } catch {
                    notes[v.index] = (.failed, error.message)
                }
            }
            then(SoundRecords(collection: sc, records: records), notes)
        }
    }

    /// A sound collection's records of one Upsert, by item index.
    struct SoundRecords: Sendable {
        let collection: VectorCollection
        var records: [Int: [Record]]
    }

    /// Stores items' records (each item's record first, then its segments'): segments the
    /// replaced items had and the new ones do not are deleted first (their own durable write),
    /// so a crash in between leaves the old item with fewer segments, never a segment without
    /// its item.
    private func write(_ items: [[Record]], into c: VectorCollection, replacingSegments: Bool) throws(StoreError) {
        if replacingSegments {
            var stale: [String] = []
            for records in items {
                let key = records[0].key
                let fresh = Set(records.dropFirst().map(\.key))
                stale += SegmentRecords.storedKeys(of: key, metadata: try c.get(key)?.metadata).filter { !fresh.contains($0) }
            }
            if !stale.isEmpty { try c.delete(stale) }
        }
        try c.upsert(items.flatMap { $0 })
    }

    /// Deletes `keys` and their segment records from `c` (those stored; absent keys are fine).
    private func deleteWithSegments(_ keys: [String], from c: VectorCollection) throws(StoreError) {
        var doomed: [String] = []
        for key in keys {
            guard let old = try c.get(key) else { continue }
            doomed += [key] + SegmentRecords.storedKeys(of: key, metadata: old.metadata)
        }
        if !doomed.isEmpty { _ = try c.delete(doomed) }
    }

    /// Whether a search is short enough for the event loop, and if so its collection and
    /// cached binding: one query, by vector, no filter, max(k, ef) at most 512 and
    /// max(k, ef) × dimension at most `quickSearchBudget` (a search's work grows with both:
    /// 384-d up to ef 341, 1536-d up to ef 85: about a tenth of a millisecond), on a collection
    /// already open with its binding cached — nothing here may wait for a lock held during
    /// an open (a snapshot load, a log replay) or read a file. The store still declines
    /// (`searchIfQuick`) when it would wait for a writer, scan many unindexed records or fall
    /// back to an exact scan; the search is then queued as any other.
    private func quickTarget(_ req: SearchRequest) -> (VectorCollection, CollectionBinding)? {
        guard req.queries.count == 1, case .vector = req.queries[0].query, req.filter.isEmpty, req.k <= 512 else { return nil }
        guard let c = catalog.openedIfFree(req.collection),
              let entry = bindings.withLock({ $0[c.name] }), entry.collection === c else { return nil }
        let ef = max(Int(req.k), req.ef == 0 ? c.config.hnsw.ef : Int(req.ef))
        guard ef <= 512 && ef * c.config.dimension <= StoreService.quickSearchBudget else { return nil }
        return (c, entry.binding)
    }

    /// See `quickTarget`.
    static let quickSearchBudget = 131_072

    private func queueSearch(_ ctx: CallContext, _ req: SearchRequest, _ done: @escaping @Sendable (Result<SearchResponse, RPCError>) -> Void) {
        queuedSearches.add(1, ordering: .relaxed)
        let submitted = reads.submit { [self] in
            queuedSearches.subtract(1, ordering: .relaxed)
            search(ctx, req, done)
        }
        if !submitted {
            queuedSearches.subtract(1, ordering: .relaxed)
            done(.failure(RPCError(.unavailable, "the server is shutting down")))
        }
    }

    /// Search: checks, embeds input queries through the batcher, searches. On the read queue;
    /// with `quick` (the collection and binding `quickTarget` found) on the event loop, where
    /// anything that could wait is queued instead.
    private func search(_ ctx: CallContext, _ req: SearchRequest, _ done: @escaping @Sendable (Result<SearchResponse, RPCError>) -> Void,
                        quick: (VectorCollection, CollectionBinding)? = nil) {
        var vectors: [[Float]?] = []
        var toEmbed: [(index: Int, input: EmbedInput, model: String)] = []
        let c: VectorCollection
        let b: CollectionBinding
        let filter: MetadataFilter?
        let k = req.k == 0 ? 10 : Int(req.k)
        let ef: Int? = req.ef == 0 ? nil : Int(req.ef)
        do throws(RPCError) {
            try ctx.checkAlive()
            if let quick {
                (c, b) = quick
                try authorize(c.name, b, ctx, .read)
            } else {
                (c, b) = try open(req.collection, ctx, .read)
            }
            guard !req.queries.isEmpty else { throw RPCError(.invalidArgument, "Search needs at least one query") }
            let limit = embed.config.limits.maxInputsPerCall
            guard req.queries.count <= limit else {
                throw RPCError(.invalidArgument, "\(req.queries.count) queries in one Search; the limit is \(limit) (limits.max_inputs_per_call)")
            }
            guard k <= 100_000 else { throw RPCError(.invalidArgument, "k must be 1…100000, got \(k)") }
            if let ef, ef > 100_000 { throw RPCError(.invalidArgument, "ef must be 1…100000, got \(ef)") }
            do throws(StoreError) { filter = try MetadataFilter(json: req.filter) } catch { throw StoreService.rpc(error) }
            try checkRequestedModel(req.model, c, b)
            var model: ModelSummary?
            var prompt: String?  // prepended to text queries (`promptText`)
            for (i, q) in req.queries.enumerated() {
                switch q.query {
                case .none: throw RPCError(.invalidArgument, "query \(i) is empty (set an input or a vector)")
                case .vector(let v):
                    try checkVector(v.values, c, b, what: "query \(i)")
                    guard v.values.allSatisfy({ $0.isFinite }) else { throw RPCError(.invalidArgument, "query \(i) contains NaN or infinity") }
                    vectors.append(v.values)
                case .input(let input):
                    guard !b.isRaw else {
                        throw RPCError(.invalidArgument, "query \(i): \(describe(c, b)) has no model to embed inputs with: search by vector")
                    }
                    if model == nil {
                        // A model still loading: the search waits for it (within its deadline), then starts over.
                        if embed.waitingForLoad(of: b.model, ctx, { [self] in queueSearch(ctx, req, done) }) { return }
                        model = try boundModel(c, b, ctx: ctx)
                        prompt = try promptText(asked: req.prompt, stored: b.queryPrompt, option: "query_prompt", c, b)
                    }
                    let (converted, target) = try routedInput(input, ctx, bound: model!, what: "query \(i)")
                    try target.requireKind(of: converted, what: "query \(i)")
                    toEmbed.append((i, converted.prompted(prompt), target.name))
                    vectors.append(nil)
                }
            }
        } catch {
            done(.failure(error))
            return
        }
        let frameLimit = embed.config.limits.maxFrameBytes
        let run: @Sendable ([[Float]?], [EmbedWire.InputUsage?]) -> Void = { vectors, usage in
            do throws(RPCError) {
                try ctx.checkAlive()
                var response = SearchResponse(metric: c.config.metric.rawValue)
                response.results.reserveCapacity(vectors.count)
                // The reply must fit one frame: each query gets what the earlier ones left.
                var budget = frameLimit - 64
                for (i, v) in vectors.enumerated() {
                    let hits: [EmbedStore.SearchHit]
                    do throws(StoreError) {
                        if quick != nil {
                            guard let found = try c.searchIfQuick(v!, k: k, ef: ef, resultBytesLimit: budget) else {
                                self.queueSearch(ctx, req, done)
                                return
                            }
                            hits = found
                        } else {
                            hits = try c.search(v!, k: k, ef: ef, filter: filter, resultBytesLimit: budget)
                        }
                    } catch {
                        if case .resultTooLarge = error {
                            throw RPCError(.resourceExhausted, "the reply to this Search would exceed max_frame_bytes "
                                           + "(\(frameLimit)) at query \(i) of \(vectors.count): ask for fewer hits "
                                           + "(k \(k)) or send fewer queries per call")
                        }
                        throw StoreService.rpc(error)
                    }
                    for h in hits { budget -= h.key.utf8.count + (h.metadata?.utf8.count ?? 0) + 24 }
                    budget -= 8
                    response.results.append(SearchResult(hits: hits.map { EmbedWire.SearchHit(key: $0.key, score: $0.score, metadata: $0.metadata ?? "", document: $0.document ?? "") },
                                                         usage: usage[i]))
                }
                done(.success(response))
            } catch {
                done(.failure(error))
            }
        }
        guard !toEmbed.isEmpty else {
            run(vectors, Array(repeating: nil, count: vectors.count))
            return
        }
        let pending = toEmbed
        let partial = vectors
        embedRouted(pending.map { ($0.input, $0.model) }, ctx, on: reads, c, b, truncation: req.truncation, segments: false,
                    fail: { done(.failure($0)) }) { slice in
            var vectors = partial
            var usage = [EmbedWire.InputUsage?](repeating: nil, count: partial.count)
            for (row, (index, _, _)) in pending.enumerated() {
                if let f = slice.failures[row] {
                    done(.failure(RPCError(.invalidArgument, "query \(index): \(f.message)")))
                    return
                }
                vectors[index] = slice.vector(at: row)
                usage[index] = EmbedWire.InputUsage(slice.usage[row])
            }
            run(vectors, usage)
        }
    }
}
