import EmbedCLI
import EmbedClient
import EmbedJSON
import EmbedMilvus
import EmbedSys
import EmbedWire

/// `embedctl export COLLECTION milvus://HOST:PORT/NAME`: copies every live record (key, vector,
/// metadata, document) into a Milvus collection over its REST API (docs/milvus.md).
enum ExportCommand {
    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            name: "export", abstract: "Copy a collection's records into a Milvus collection (REST v1 or v2).",
            discussion: """
            TARGET is milvus://HOST[:PORT]/[DATABASE/]NAME (port 19530 by default). Records are read in
            key order (the Scan call) and written in batches; no vector is re-embedded. Without
            --create the Milvus collection must exist with the same dimension and metric.
            Progress is saved after every batch; after an interruption, --resume goes on from the
            last batch Milvus acknowledged (docs/milvus.md). At the end the Milvus count is read
            back and compared (a difference is an error).
            Example: embedctl export docs milvus://localhost:19530/docs --create
            """)
        var collection = ""
        var target = ""
        var token: String?
        var create = false
        var resume = false
        /// Put before every key (a mirror's source prefix: several machines into one collection).
        var prefix: String?
        /// Skip the final count check (`collection mirror`: writes during the export are
        /// replayed by the mirror, and other sources may share the collection).
        var noCountCheck = false
        var api: MilvusAPIChoice?
        var batch: Int?
        var stopAfter: Int?
        var stateFile: String?
        var connection = ConnectionOptions()

        static var arguments: [Argument<Self>] {
            [
                .argument("COLLECTION", \.collection, .collection),
                .argument("TARGET", \.target, .string),
                .option("--token", value: "TOKEN", help: "Milvus credentials: USER:PASSWORD or an API key (default: $MILVUS_TOKEN)", \.token, .string),
                .flag("--create", help: "create the Milvus collection if it does not exist", \.create),
                .flag("--resume", help: "continue an interrupted export of this collection to this target", \.resume),
                .option("--api", value: "API", help: "REST API: auto (default: v2 where the server has it), v1 or v2", \.api, .choice),
                .option("--batch", value: "N", help: "records per insert request (default 1000)", \.batch, .integer(max: 100_000)),
                .option("--stop-after", value: "N", help: "stop (resumably) after N records: for tests and trial runs", \.stopAfter,
                        .integer(max: Int(Int32.max))),
                .option("--prefix", value: "P", help: "put P before every key in Milvus (as `collection mirror --prefix`)", \.prefix, .string),
                .flag("--no-count-check", help: "skip the final count check (collection mirror: the mirror replays writes made meanwhile)",
                      \.noCountCheck),
                .option("--state", value: "FILE", help: "the resume file (default: under $XDG_STATE_HOME/embedd/export)", \.stateFile, .file),
                .group(\.connection),
            ]
        }

        func run() throws(CLIError) {
            let url: MilvusURL
            do { url = try MilvusURL(parsing: target) } catch { throw .usage(error.description) }
            let batchSize = batch ?? 1000
            let started = Clock.monotonicSeconds()

            // The source collection.
            let client = try connection.connect()
            defer { client.close() }
            let info: CollectionInfo
            do { info = try client.describeCollection(collection) } catch { throw .runtime(error.description) }
            guard MilvusMetric.milvusName(info.metric) != nil else {
                throw .runtime("collection '\(collection)' uses metric '\(info.metric)', which Milvus has no equivalent for")
            }

            // The target.
            let transport = HTTPMilvusTransport(host: url.host, port: url.port)
            let milvus = MilvusClient(url: url, transport: transport,
                                      token: token ?? Environment.get("MILVUS_TOKEN").flatMap { $0.isEmpty ? nil : $0 })
            milvus.onRetry = { error, wait in
                Output.err("\rembedctl: \(error) — retrying in \(ProgressBar.duration(wait))\u{1B}[K\n")
            }
            let state = ExportState(path: stateFile ?? ExportState.defaultPath(collection: collection, url: url),
                                    collection: collection, url: url)
            var after = ""
            var exportedBefore = 0
            if resume {
                guard let saved = try state.load() else {
                    throw .runtime("nothing to resume: no interrupted export of '\(collection)' to \(url) (no \(state.path)); "
                                   + "run without --resume to start one")
                }
                after = saved.after
                exportedBefore = saved.exported
            }
            let api: MilvusAPI
            var schema: MilvusSchema
            var created = false
            do {
                api = try milvus.detectAPI(self.api ?? .auto)
                if let existing = try milvus.describe() {
                    schema = existing
                } else if create {
                    schema = try milvus.create(.init(dimension: Int(info.dimension), metric: info.metric,
                                                     hnswM: Int(info.hnswM), efConstruction: Int(info.hnswEfConstruction)))
                    created = true
                } else {
                    throw CLIError.runtime("Milvus collection '\(url.collection)' does not exist at \(url.host):\(url.port): "
                                           + "add --create to make it (dimension \(info.dimension), metric \(info.metric))")
                }
            } catch let e as CLIError { throw e } catch let e as MilvusError { throw .runtime(e.description) } catch {
                throw .runtime("\(error)")
            }
            try Self.checkCompatible(schema, info, url)

            // A fresh export into an empty collection only inserts; anything else replaces by
            // key, so a rerun or a resumed batch never leaves a duplicate.
            var replace = true
            if created && !resume {
                replace = false
            } else if !resume {
                do { replace = try milvus.count(schema: schema) > 0 } catch { throw .runtime(error.description) }
            }
            if !resume { try state.save(after: "", exported: 0) }

            let total = Int(info.count)
            let bar = ProgressBar(total: total, label: "export")
            var exported = exportedBefore
            var thisRun = 0
            var scanned = 0
            var scanAfter = after
            var stoppedEarly = false
            let limit = stopAfter ?? Int.max
            // One batch is in flight to Milvus (on its own thread) while the next page is read
            // from the daemon and encoded; `after` advances only when Milvus acknowledged.
            var pending: (thread: OSThread, outcome: WriteOutcome, count: Int, lastKey: String)?
            func settle() throws(CLIError) {
                guard let p = pending else { return }
                p.thread.join()
                pending = nil
                if let error = p.outcome.error {
                    bar.finish()
                    throw .runtime("\(error) (after \(exported) records; go on with --resume)")
                }
                exported += p.count
                thisRun += p.count
                after = p.lastKey
                try state.save(after: after, exported: exported)
                bar.update(done: exported, failed: 0)
            }
            let sender = Sender(milvus)
            while true {
                let page: ScanResponse
                do { page = try client.scan(collection, after: scanAfter, limit: min(batchSize, limit - scanned), vectors: true) } catch {
                    try? settle()
                    throw .runtime(error.description)
                }
                let records = page.records.map {
                    MilvusRecord(key: (prefix ?? "") + $0.key, vector: $0.vector?.values ?? [], metadata: $0.metadata, document: $0.document)
                }
                let batch: MilvusClient.Batch
                do { batch = try MilvusClient.encode(records, schema: schema) } catch {
                    try? settle()
                    throw .runtime("\(error) (after \(exported) records)")
                }
                try settle()
                if !records.isEmpty {
                    // The first batch after a resume may repeat one Milvus already has.
                    let mustReplace = replace || (resume && scanned == 0)
                    let outcome = WriteOutcome()
                    let thread: OSThread
                    do {
                        thread = try OSThread { [schema] in
                            do throws(MilvusError) { try sender.client.write(batch, schema: schema, replace: mustReplace) } catch {
                                outcome.error = error
                            }
                        }
                    } catch { throw .runtime("cannot start a thread: \(error)") }
                    pending = (thread, outcome, records.count, records.last!.key)
                }
                scanned += records.count
                if page.nextAfter.isEmpty { break }
                scanAfter = page.nextAfter
                if scanned >= limit { stoppedEarly = true; break }
            }
            try settle()
            bar.update(done: exported, failed: 0, force: true)
            bar.finish()
            let seconds = Clock.monotonicSeconds() - started
            let rate = Int(Double(thisRun) / max(seconds, 1e-3))
            if stoppedEarly {
                Output.out("stopped after \(thisRun) records (\(exported) in all) at key \(JSON.string(after)); "
                           + "go on with: embedctl export \(collection) \(url) --resume\n")
                return
            }

            if noCountCheck {
                state.remove()
                Output.out("exported \(thisRun) records of '\(collection)' to \(url) (REST \(api.rawValue)" + (created ? ", created" : "")
                           + (resume ? ", resumed" : "") + ") in \(Int(seconds.rounded())) s, \(rate) records/s\n")
                return
            }
            // Read back the count (Milvus's default consistency may lag a few seconds).
            let expected: Int
            do { expected = Int(try client.count(collection)) } catch { throw .runtime(error.description) }
            var milvusCount = -1
            let deadline = Clock.monotonicSeconds() + 60
            repeat {
                do { milvusCount = try milvus.count(schema: schema) } catch { throw .runtime("export done, but the count check failed: \(error)") }
                if milvusCount == expected { break }
                Clock.sleep(seconds: 0.5)
            } while Clock.monotonicSeconds() < deadline
            guard milvusCount == expected else {
                throw .runtime("export done, but Milvus's collection '\(url.collection)' holds \(milvusCount) entities and '\(collection)' "
                               + "has \(expected) records: writes during the export, or entities that were already in the Milvus "
                               + "collection (export again to replace by key, or export into a new collection)")
            }
            state.remove()
            Output.out("exported \(thisRun) records of '\(collection)' to \(url) (REST \(api.rawValue)"
                       + (created ? ", created" : "") + (resume ? ", resumed" : "")
                       + ") in \(Int(seconds.rounded())) s, \(rate) records/s; Milvus count \(milvusCount) matches\n")
        }

        /// The Milvus collection must have the source's dimension and metric.
        static func checkCompatible(_ schema: MilvusSchema, _ info: CollectionInfo, _ url: MilvusURL) throws(CLIError) {
            guard schema.dimension == Int(info.dimension) else {
                throw .runtime("Milvus collection '\(url.collection)' has dimension \(schema.dimension); '\(info.name)' has \(info.dimension)")
            }
            let metric = MilvusMetric.milvusName(info.metric)!
            if let theirs = schema.metric, theirs.uppercased() != metric {
                throw .runtime("Milvus collection '\(url.collection)' is indexed with metric \(theirs); '\(info.name)' uses \(info.metric) (\(metric))")
            }
        }
    }
}

/// What a writer thread reports back (read after `join`, which orders the accesses).
final class WriteOutcome: @unchecked Sendable {
    var error: MilvusError?
}

/// Hands the Milvus client to the writer thread; only one thread uses it at a time (the main
/// thread waits with `join` before the next write).
final class Sender: @unchecked Sendable {
    let client: MilvusClient
    init(_ client: MilvusClient) { self.client = client }
}

