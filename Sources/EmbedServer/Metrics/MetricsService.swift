import EmbedStore
import EmbedSys
import EmbedWire

/// The Metrics method (id 6): the daemon's series in the Prometheus text exposition format.
///
/// Who may call it: anyone who can connect, like Status — the socket's permissions already
/// decide who talks to the daemon, and what it shows about models and the process is what
/// Status shows. Per-collection series are the exception: they appear only for the
/// collections the caller may read (their ACL; admins and uid 0 read all), as Stats lists
/// only those, so a scrape never reveals how big someone else's private collection is. A
/// gateway that serves `/metrics` for every collection therefore runs as a user with read
/// access to them (or in the admin group). docs/operations.md, "Metrics", lists every series.
///
/// Counted series come from `MetricsRegistry`; the rest is read now: model states,
/// generations and queue depths, connections, the collections open in the store (a scrape
/// never opens one), and `/proc/self`.
final class MetricsService: Sendable {
    let embed: EmbedService
    let store: StoreService
    let shared: ServingState

    init(embed: EmbedService, store: StoreService, shared: ServingState) {
        self.embed = embed
        self.store = store
        self.shared = shared
    }

    /// Registers Metrics. It runs on the compute pool: reading `/proc` and every open
    /// collection's counters is quick, but not work for the event loop.
    func install(on server: Server) {
        server.register(.metrics, .typed(MetricsRequest.self, executor: .compute, allowedWhileDraining: true) { [self] ctx, _ in
            MetricsResponse(text: exposition(ctx))
        })
    }

    /// The whole exposition as `ctx`'s caller may see it.
    func exposition(_ ctx: CallContext) -> String {
        var w = MetricsWriter()
        w.family("embedd_build_info", .gauge, help: "Always 1; the daemon's version and protocol as labels.")
        w.sample("embedd_build_info", [("version", EmbeddVersion.string),
                                       ("protocol", "\(ProtocolVersion.major).\(ProtocolVersion.minor)")], 1)
        w.family("embedd_connections", .gauge, help: "Open client connections.")
        w.sample("embedd_connections", [], shared.connectionCount.load(ordering: .relaxed))
        w.family("embedd_calls_in_flight", .gauge, help: "Calls started and not yet answered.")
        w.sample("embedd_calls_in_flight", [], shared.callsInFlight.load(ordering: .relaxed))

        shared.metrics.write(into: &w)
        writeModels(into: &w)
        writeCollections(ctx, into: &w)
        writeProcess(into: &w)
        return w.text
    }

    private static let states: [(EmbedWire.ModelState, String)] = [(.ready, "ready"), (.loading, "loading"), (.failed, "failed")]

    private func writeModels(into w: inout MetricsWriter) {
        let infos = embed.modelInfos().sorted { $0.name < $1.name }
        w.family("embedd_model_state", .gauge, help: "1 for the state each configured model is in now, 0 for the others.")
        for m in infos {
            for (state, label) in Self.states {
                w.sample("embedd_model_state", [("model", m.name), ("state", label)], m.state == state ? 1 : 0)
            }
        }
        w.family("embedd_model_generation", .gauge, help: "Generation of the model serving now (increments with every hot swap; 0 when not loaded).")
        for m in infos { w.sample("embedd_model_generation", [("model", m.name)], m.generation) }
        w.family("embedd_model_in_flight", .gauge, help: "Plugin calls in progress on the model's serving generation.")
        for m in infos { w.sample("embedd_model_in_flight", [("model", m.name)], Int(m.inFlight)) }
        w.family("embedd_queue_depth", .gauge, help: "Inputs queued for the model's batcher, waiting for a plugin call.")
        let depths = Dictionary(embed.queueDepths().map { ($0.model, $0.inputs) }, uniquingKeysWith: { a, _ in a })
        // Every configured model (0 until its first call makes a batcher), then any batcher
        // left of a model no longer configured (it drains what it holds).
        let names = infos.map(\.name)
        for name in names { w.sample("embedd_queue_depth", [("model", name)], depths[name] ?? 0) }
        for (name, n) in depths.sorted(by: { $0.key < $1.key }) where !names.contains(name) {
            w.sample("embedd_queue_depth", [("model", name)], n)
        }
    }

    private func writeCollections(_ ctx: CallContext, into w: inout MetricsWriter) {
        var stats: [EmbedStore.CollectionStats] = []
        var mirrors: [(collection: String, retainedBytes: Int64, statuses: [MirrorStatus])] = []
        for c in store.catalog.openCollections() {
            // A binding that cannot be read (a damaged file) hides the collection, as Stats does.
            guard let b = try? store.binding(of: c), b.canRead(ctx) else { continue }
            stats.append(c.stats())
            let statuses = c.mirrorStatuses()
            if !statuses.isEmpty { mirrors.append((c.name, c.retainedLogBytes, statuses)) }
        }
        Self.collectionFamily(&w, stats, "embedd_collection_records", "Live records.") { Int64($0.count) }
        Self.collectionFamily(&w, stats, "embedd_collection_deleted",
                              "Deleted or replaced records whose slots are not reclaimed yet (a checkpoint compacts them).") { Int64($0.deleted) }
        Self.collectionFamily(&w, stats, "embedd_collection_unindexed",
                              "Records acknowledged but not yet linked into the graph (searched exactly meanwhile).") { Int64($0.unindexed) }
        Self.collectionFamily(&w, stats, "embedd_collection_wal_bytes", "Bytes of the collection's write-ahead log.") { $0.walBytes }
        Self.collectionFamily(&w, stats, "embedd_collection_snapshot_bytes",
                              "Bytes of the collection's snapshot file (0 before its first checkpoint).") { $0.snapshotBytes }
        Self.collectionFamily(&w, stats, "embedd_collection_memory_bytes",
                              "Bytes of vectors, links, keys and metadata the collection holds in memory.") { Int64($0.memoryBytes) }
        Self.writeMirrors(mirrors, into: &w)
    }

    /// One series per mirror (collection, target): how far it trails the collection's log.
    private static func writeMirrors(_ mirrors: [(collection: String, retainedBytes: Int64, statuses: [MirrorStatus])],
                                     into w: inout MetricsWriter) {
        guard !mirrors.isEmpty else { return }
        w.family("embedd_mirror_lag_records", .gauge, help: "Keys written to the collection and not yet forwarded by the mirror.")
        for m in mirrors {
            for s in m.statuses { w.sample("embedd_mirror_lag_records", [("collection", m.collection), ("target", s.cursor.target)], s.lagRecords) }
        }
        w.family("embedd_mirror_lag_seconds", .gauge, help: "Age of the oldest write the mirror has not forwarded (0 when caught up).")
        for m in mirrors {
            for s in m.statuses { w.sample("embedd_mirror_lag_seconds", [("collection", m.collection), ("target", s.cursor.target)], s.lagSeconds) }
        }
        w.family("embedd_mirror_stale", .gauge, help: "1 when the log the mirror needs is gone (past store.mirror_log_limit): re-export.")
        for m in mirrors {
            for s in m.statuses { w.sample("embedd_mirror_stale", [("collection", m.collection), ("target", s.cursor.target)], s.stale ? 1 : 0) }
        }
        w.family("embedd_mirror_retained_log_bytes", .gauge, help: "Bytes of log kept past checkpoints for the collection's mirrors.")
        for m in mirrors { w.sample("embedd_mirror_retained_log_bytes", [("collection", m.collection)], Int(m.retainedBytes)) }
    }

    private static func collectionFamily(_ w: inout MetricsWriter, _ stats: [EmbedStore.CollectionStats], _ name: String, _ help: String,
                                         _ value: (EmbedStore.CollectionStats) -> Int64) {
        w.family(name, .gauge, help: help + " Collections open in the daemon that the caller may read.")
        for s in stats { w.sample(name, [("collection", s.name)], Int(value(s))) }
    }

    private func writeProcess(into w: inout MetricsWriter) {
        guard let p = ProcessStats.current() else { return }
        w.family("process_resident_memory_bytes", .gauge, help: "Resident memory size in bytes.")
        w.sample("process_resident_memory_bytes", [], p.residentBytes)
        w.family("process_open_fds", .gauge, help: "Number of open file descriptors.")
        w.sample("process_open_fds", [], p.openDescriptors)
        if let max = p.maxDescriptors {
            w.family("process_max_fds", .gauge, help: "Maximum number of open file descriptors.")
            w.sample("process_max_fds", [], max)
        }
        w.family("process_start_time_seconds", .gauge, help: "Start time of the process since unix epoch in seconds.")
        w.sample("process_start_time_seconds", [], p.startTimeSeconds)
        w.family("process_cpu_seconds_total", .counter, help: "Total user and system CPU time spent in seconds.")
        w.sample("process_cpu_seconds_total", [], p.cpuSeconds)
    }
}
