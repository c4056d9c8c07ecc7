import EmbedClient
import EmbedMilvus
import EmbedSys
import EmbedWire

/// The mirror loop: read a page of changes after the cursor, forward it to Milvus in log
/// order, acknowledge it, repeat. Delivery is at least once: a crash or kill between the
/// Milvus write and the ack replays the page, which is idempotent (upserts replace by key,
/// deletes of absent keys do nothing). Nothing is ever skipped: failures wait and retry the
/// same page, except a stale cursor or an unregistered mirror, which stop the process.
final class Forwarder {
    let options: MirrorOptions
    private var daemon: EmbedClient?
    private var milvus: MilvusClient?
    private var schema: MilvusSchema?
    private var mirror = MirrorInfo()
    private var forwarded = 0
    private var lastReport = Clock.monotonicSeconds()

    init(options: MirrorOptions) { self.options = options }

    static func log(_ line: String) {
        try? FileDescriptor.standardError.writeAll(Array("embedd-mirror: \(line)\n".utf8))
    }

    /// Runs until `--once` finds nothing new, or a fatal failure.
    func run() throws(MirrorFailure) {
        var delay = 0.5
        while true {
            do throws(MirrorFailure) {
                if try step() { delay = 0.5; continue }
                if options.once { return }
                ChildProcess.sleep(seconds: options.poll)
            } catch {
                if case .fatal = error { throw error }
                ChildProcess.sleep(seconds: delay)
                delay = min(delay * 2, 30)
            }
        }
    }

    /// One page: returns whether it forwarded anything. Non-fatal failures are logged and
    /// thrown as `.usage("")` markers for the caller's back-off (never as fatal).
    private func step() throws(MirrorFailure) -> Bool {
        let client = try connectDaemon()
        let page: ChangesResponse
        do { page = try client.changes(options.collection, after: mirror.sequence, limit: options.batch) } catch {
            throw daemonFailure(error)
        }
        if page.changes.isEmpty { return false }
        let (m, s) = try connectMilvus()
        do { try forward(page.changes, to: m, schema: s) } catch {
            Forwarder.log("Milvus: \(error); retrying sequences \(mirror.sequence + 1)…\(page.nextSequence)")
            if case .badURL = error { throw .fatal("\(error)") }
            milvus = nil  // detect the API and the collection afresh: the server may have been replaced
            schema = nil
            throw .usage("")
        }
        do { mirror = try client.ackMirror(options.collection, target: mirror.target, sequence: page.nextSequence) } catch {
            throw daemonFailure(error)
        }
        forwarded += page.changes.count
        if Clock.monotonicSeconds() - lastReport >= 30 {
            lastReport = Clock.monotonicSeconds()
            Forwarder.log("at sequence \(mirror.sequence) of \(mirror.lastSequence); \(mirror.lagRecords) records, \(mirror.lagSeconds) s behind")
        }
        return true
    }

    /// The daemon connection, (re)connecting and reading the mirror's cursor.
    private func connectDaemon() throws(MirrorFailure) -> EmbedClient {
        if let daemon { return daemon }
        do {
            let c = try EmbedClient(socketPath: options.socket, clientName: "embedd-mirror/0.1", timeoutSeconds: 120)
            let list = try c.mirrors(options.collection)
            let chosen: MirrorInfo
            if let t = options.target {
                guard let m = list.first(where: { $0.target == t }) else {
                    throw MirrorFailure.fatal("collection '\(options.collection)' has no mirror to \(t) (register it: embedctl collection mirror \(options.collection) \(t))")
                }
                chosen = m
            } else {
                guard list.count == 1 else {
                    throw MirrorFailure.fatal(list.isEmpty
                        ? "collection '\(options.collection)' has no mirror (register one: embedctl collection mirror \(options.collection) milvus://HOST:PORT/NAME)"
                        : "collection '\(options.collection)' has \(list.count) mirrors: name one with --target (\(list.map(\.target).joined(separator: ", ")))")
                }
                chosen = list[0]
            }
            if chosen.stale { throw MirrorFailure.fatal(staleMessage(chosen.target)) }
            if mirror.target != chosen.target || chosen.sequence > mirror.sequence || daemon == nil { mirror = chosen }
            Forwarder.log("connected to \(options.socket): collection '\(options.collection)' → \(chosen.target)"
                          + (chosen.prefix.isEmpty ? "" : " (prefix \(chosen.prefix))") + ", from sequence \(mirror.sequence) of \(chosen.lastSequence)")
            daemon = c
            return c
        } catch let e as MirrorFailure {
            throw e
        } catch let e as ClientError {
            throw daemonFailure(e)
        } catch {
            throw .usage("")
        }
    }

    private func staleMessage(_ target: String) -> String {
        "the mirror of '\(options.collection)' to \(target) is stale: the daemon no longer keeps the log after its cursor (store.mirror_log_limit). "
            + "Export again (embedctl export \(options.collection) \(target) --resume), then: embedctl collection mirror \(options.collection) \(target) --reset"
    }

    private func daemonFailure(_ error: ClientError) -> MirrorFailure {
        if case .rpc(let status, let message) = error {
            if status == .failedPrecondition {
                return .fatal(message.contains("no longer retained") ? staleMessage(mirror.target) + " (\(message))" : message)
            }
            if status == .notFound || status == .permissionDenied { return .fatal(message) }
        }
        Forwarder.log("daemon: \(error); reconnecting")
        daemon?.close()
        daemon = nil
        return .usage("")
    }

    /// The Milvus client and the target collection's schema (which must exist: `embedctl
    /// collection mirror … --create` makes it with the initial export).
    private func connectMilvus() throws(MirrorFailure) -> (MilvusClient, MilvusSchema) {
        if let milvus, let schema { return (milvus, schema) }
        do throws(MilvusError) {
            let url = try MilvusURL(parsing: mirror.target)
            let m = MilvusClient(url: url, transport: HTTPMilvusTransport(host: url.host, port: url.port), token: options.token)
            m.onRetry = { error, wait in Forwarder.log("Milvus: \(error); retrying in \(wait) s") }
            try m.detectAPI()
            var described = try m.describe()
            if described == nil && options.create, let c = collectionInfo() {
                described = try m.create(MilvusClient.Spec(dimension: Int(c.dimension), metric: c.metric, hnswM: Int(c.hnswM),
                                                           efConstruction: Int(c.hnswEfConstruction)))
                Forwarder.log("created the Milvus collection \(url.collection) (dimension \(c.dimension), \(c.metric))")
            }
            guard let s = described else {
                throw MilvusError.noCollection("the Milvus collection \(url.collection) does not exist (create it with the initial export: embedctl collection mirror \(options.collection) \(mirror.target) --create --reset)")
            }
            milvus = m
            schema = s
            Forwarder.log("Milvus \(url.host):\(url.port) speaks REST \(m.api.rawValue); collection \(url.collection) of dimension \(s.dimension)")
            return (m, s)
        } catch {
            if case .badURL = error { throw .fatal("\(error)") }
            Forwarder.log("Milvus: \(error)")
            throw .usage("")
        }
    }

    /// The collection's description (dimension, metric, HNSW parameters), nil when the daemon
    /// cannot be asked right now.
    private func collectionInfo() -> CollectionInfo? {
        guard let daemon else { return nil }
        return try? daemon.call(.describeCollection, DescribeCollectionRequest(name: options.collection), as: DescribeCollectionResponse.self).collection
    }

    /// Sends `changes` in log order: consecutive upserts go as one replacing write per
    /// `batch` records (the last write of a key within a run wins, as it would in the log),
    /// consecutive deletes as one delete.
    private func forward(_ changes: [Change], to m: MilvusClient, schema: MilvusSchema) throws(MilvusError) {
        var run: [MilvusRecord] = []
        var index: [String: Int] = [:]
        var deletes: [String] = []
        func flushUpserts() throws(MilvusError) {
            if run.isEmpty { return }
            try m.write(run, schema: schema, replace: true)
            run.removeAll(keepingCapacity: true)
            index.removeAll(keepingCapacity: true)
        }
        func flushDeletes() throws(MilvusError) {
            if deletes.isEmpty { return }
            var start = 0
            while start < deletes.count {
                let end = min(deletes.count, start + options.batch)
                try m.delete(keys: Array(deletes[start..<end]), schema: schema)
                start = end
            }
            deletes.removeAll(keepingCapacity: true)
        }
        let prefix = mirror.prefix
        for change in changes {
            if change.delete {
                try flushUpserts()
                deletes += change.keys.map { prefix + $0 }
            } else {
                try flushDeletes()
                for r in change.records {
                    let record = MilvusRecord(key: prefix + r.key, vector: r.vector?.values ?? [], metadata: r.metadata, document: r.document)
                    if let i = index[record.key] { run[i] = record } else {
                        if run.count >= options.batch { try flushUpserts() }
                        index[record.key] = run.count
                        run.append(record)
                    }
                }
            }
        }
        try flushUpserts()
        try flushDeletes()
    }
}
