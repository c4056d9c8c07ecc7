import EmbedClient
import EmbedSys
import EmbedWire

/// Sends `embedctl add`'s items to the daemon in batches and records, per key, what happened.
///
/// Durability: a key is reported stored only when the daemon's answer says `UPSERT_STORED`,
/// which it sends after the write-ahead log record is fsync'd. Keys of a batch whose answer
/// never came (the daemon died, the connection broke) are reported failed with "may or may
/// not be stored" and counted as unacknowledged: re-running with `--skip-existing` settles them.
///
/// The batches go through `CallPipeline` (shared with `embedctl embed`): two in flight at a
/// time, so the model embeds one batch while the store syncs the previous one; overload and
/// passing unavailability are retried; any other refusal of a whole call (permission, unknown
/// collection, wrong model) stops the run with the reason. Whatever was never sent (after a
/// stop, or Ctrl-C) is counted as not sent, not as failed.
final class BulkUpsert {
    struct Options {
        var collection: String
        var model = ""
        var skipExisting = false
        /// What happens to texts longer than the model's window.
        var truncation: Truncation = .default
        /// The model prompt for text items ("" = the collection's add prompt).
        var prompt = ""
        /// Store each recording's time windows beside it (audio and video models).
        var segments = false
        /// Where videos' sound vectors go ("" = the daemon's default, COLLECTION.sound).
        var soundCollection = ""
        var batchSize = 64
        /// Upper bound on one request's payload, below the daemon's frame limit.
        var maxBatchBytes = 8 << 20
        /// Read files here and send their bytes instead of passing descriptors.
        var sendBytes = false
        var mime: String?
        var deadlineMilliseconds: UInt32 = 0
        /// How long overload and unavailability may be waited out in total.
        var retrySeconds = 30.0
        /// The collection's dimension and whether it has a model, when DescribeCollection told
        /// us: items that cannot fit are failed here, alone, instead of failing their batch.
        var dimension: Int?
        /// The collection's model ("" for a raw collection).
        var boundModel: String?
    }

    struct Failure {
        var key: String
        var error: String
        /// The whole call failed (refused, or never answered), not this item for a reason of its own.
        var wholeCall = false
    }

    private let client: EmbedClient
    let options: Options
    private(set) var stored: [String] = []
    /// Segment records stored beside the items (`Options.segments`).
    private(set) var segmentsStored = 0
    /// Videos whose sound vector was stored, and where.
    private(set) var soundStored: [String: Int] = [:]
    /// Videos without a sound track (not a failure).
    private(set) var soundAbsent: [String] = []
    /// Videos whose picture vector was stored but whose sound failed, with why.
    private(set) var soundFailed: [(key: String, error: String)] = []
    private(set) var skipped: [String] = []
    /// Stored keys whose text the model cut to its window, with the tokens it had and used.
    private(set) var truncated: [(key: String, tokens: UInt32, used: UInt32)] = []
    private(set) var failures: [Failure] = []
    /// Keys sent whose answer never came (may or may not be stored); they are in `failures` too.
    private(set) var unacknowledged = 0
    /// Keys never sent (after Ctrl-C or a stop).
    private(set) var notSent: [String] = []
    /// Why sending stopped before the end (nil when everything was sent).
    private(set) var stop: CallPipeline.Stop?
    /// Items the daemon answered for (the progress bar's count).
    private(set) var answered = 0

    /// Items per request-in-flight window.
    static let window = 2
    /// Files passed with one call: the daemon's default `limits.max_descriptors_per_call`
    /// (SCM_RIGHTS itself carries up to 253).
    static let maxDescriptorsPerBatch = 64

    init(client: EmbedClient, options: Options) {
        self.client = client
        self.options = options
    }

    var done: Int { stored.count + skipped.count + failures.count }

    private struct Prepared {
        var items: [AddItem] = []
        var wire: [UpsertItem] = []
        var files: [FileDescriptor] = []
    }

    /// Sends every item; `progress` is told after each answer; `interrupt` (Ctrl-C) stops sending.
    func run(_ all: [AddItem], progress: ProgressBar, interrupt: Interrupt? = nil, onInterrupt: (Int) -> Void = { _ in }) {
        let items = all.filter { item in
            guard let why = localProblem(item) else { return true }
            failures.append(Failure(key: item.key, error: why))
            return false
        }
        progress.total = items.count
        var limits = CallPipeline.Limits(maxItems: options.batchSize, maxBytes: options.maxBatchBytes,
                                         maxDescriptors: Self.maxDescriptorsPerBatch)
        limits.maxItems = min(limits.maxItems, CallPipeline.Limits.defaultMaxItems)
        limits.fit(client.serverHello)
        let pipeline = CallPipeline(client: client, limits: limits, window: Self.window, retrySeconds: options.retrySeconds,
                                    interrupt: interrupt)
        // The items of each call as sent (unreadable files left out), by its first index: the
        // answer's results belong to them, and a retry resends them.
        var sent: [Int: [AddItem]] = [:]
        // Items failed while preparing a call (counted once, even if that call is never sent).
        var failedLocally: Set<Int> = []
        let sizes = items.map(estimate)

        let result = pipeline.run(
            count: items.count, size: { sizes[$0] },
            isFile: { if case .file = items[$0].content { return true } else { return false } },
            send: { (range, attempt) throws(ClientError) -> UInt32? in
                let candidates: [(Int, AddItem)] = attempt == 0 ? range.map { ($0, items[$0]) } : (sent[range.lowerBound] ?? []).map { (-1, $0) }
                let p = prepare(candidates) { failedLocally.insert($0) }
                sent[range.lowerBound] = p.items
                guard !p.wire.isEmpty else { return nil }
                defer { for fd in p.files { try? fd.close() } }
                let id = client.makeCallID()
                let frame = Frame.request(callID: id, method: .upsert, deadlineMilliseconds: options.deadlineMilliseconds,
                                          message: UpsertRequest(collection: options.collection, items: p.wire,
                                                                 skipExisting: options.skipExisting, model: options.model,
                                                                 truncation: options.truncation, segments: options.segments, soundCollection: options.soundCollection,
                                                                 prompt: options.prompt))
                try client.send(frame, descriptors: p.files)
                return id
            },
            answered: { (range, reply) in
                let batch = sent.removeValue(forKey: range.lowerBound) ?? []
                switch reply {
                case .success(let frame):
                    do { record(batch, try frame.decodePayload(as: UpsertResponse.self)) } catch {
                        unacknowledgedBatch(batch, "the daemon's answer cannot be decoded (\(error)); may or may not be stored")
                    }
                case .failure(.rpc(let code, let message)):
                    answered += batch.count
                    fail(batch, "\(code): \(message)", wholeCall: true)
                case .failure(.timedOut):
                    unacknowledgedBatch(batch, "no answer within the timeout; may or may not be stored")
                case .failure(let error):
                    unacknowledgedBatch(batch, "not acknowledged (\(error.description)); may or may not be stored")
                }
                progress.update(done: answered, failed: failures.count - unacknowledged)
                return true
            },
            interrupted: { inFlight in
                progress.finish()
                onInterrupt(inFlight)
            })
        stop = result.stop
        notSent = result.notSent.filter { !failedLocally.contains($0) }.map { items[$0].key }
        progress.update(done: answered, failed: failures.count - unacknowledged, force: true)
        progress.finish()
    }

    /// Why `item` cannot be stored in the collection, known before sending (a wrong vector
    /// length would make the daemon refuse the whole batch, as it refuses any mix of spaces).
    private func localProblem(_ item: AddItem) -> String? {
        switch item.content {
        case .vector(let v):
            if let d = options.dimension, v.count != d {
                let owner = (options.boundModel ?? "").isEmpty ? "" : " of model \(options.boundModel!)"
                return "the vector has \(v.count) components; collection \(options.collection) holds \(d)-dimensional vectors\(owner)"
            }
        case .text, .file:
            if options.boundModel == "" {
                return "collection \(options.collection) stores raw vectors and has no model to embed with: give a vector"
            }
        }
        return nil
    }

    private func estimate(_ item: AddItem) -> Int {
        var n = item.key.utf8.count + (item.metadata?.utf8.count ?? 0) + 16
        switch item.content {
        case .text(let s): n += s.utf8.count
        case .vector(let v): n += 4 * v.count
        case .file(let path):
            if options.sendBytes, let fd = try? FileDescriptor.open(path, .readOnly) {
                n += Int((try? fd.fileSize()) ?? 0)
                try? fd.close()
            }
        }
        return n
    }

    /// Builds the wire items; files are opened (or read) now, and an unreadable one fails alone
    /// (`failedAt` is told its index).
    private func prepare(_ items: [(Int, AddItem)], failedAt: (Int) -> Void) -> Prepared {
        var p = Prepared()
        for (index, item) in items {
            let value: UpsertItem.Value
            switch item.content {
            case .text(let s): value = .input(.text(s))
            case .vector(let v): value = .vector(Vector(values: v))
            case .file(let path):
                if options.sendBytes {
                    let bytes: [UInt8]
                    do { bytes = try FileSystem.readFile(path) } catch {
                        failures.append(Failure(key: item.key, error: "cannot read \(path): \(error)"))
                        failedAt(index)
                        continue
                    }
                    switch FileInputs.bytesInput(path: path, bytes: bytes, mime: options.mime) {
                    case .success(let input): value = .input(input)
                    case .failure(let e):
                        failures.append(Failure(key: item.key, error: e.message))
                        failedAt(index)
                        continue
                    }
                } else {
                    let fd: FileDescriptor
                    do { fd = try FileDescriptor.open(path, .readOnly) } catch {
                        failures.append(Failure(key: item.key, error: "cannot open \(path): \(error)"))
                        failedAt(index)
                        continue
                    }
                    // The name as given goes into the record's document (the daemon never opens it).
                    let ref = FileRef(index: UInt32(p.files.count), mimeType: FileInputs.mimeType(path: path, override: options.mime),
                                      name: path)
                    p.files.append(fd)
                    value = .input(Input(.file(ref)))
                }
            }
            p.items.append(item)
            p.wire.append(UpsertItem(key: item.key, value: value, metadata: item.metadata ?? "", document: item.document ?? ""))
        }
        return p
    }

    private func record(_ items: [AddItem], _ response: UpsertResponse) {
        guard response.results.count == items.count else {
            // Cannot tell which result is whose: treat the batch as unacknowledged.
            unacknowledgedBatch(items, "the daemon answered \(response.results.count) results for \(items.count) items; may or may not be stored")
            return
        }
        answered += items.count
        for (item, r) in zip(items, response.results) {
            switch r.outcome {
            case .stored:
                stored.append(item.key)
                segmentsStored += Int(r.segments)
                if let u = r.usage, u.truncated { truncated.append((item.key, u.tokens, u.used)) }
                switch r.sound {
                case .stored: soundStored[r.soundCollection, default: 0] += 1
                case .absent: soundAbsent.append(item.key)
                case .failed: soundFailed.append((item.key, r.soundError))
                default: break
                }
            case .skippedExisting: skipped.append(item.key)
            case .failed: failures.append(Failure(key: item.key, error: r.error.isEmpty ? "failed (no reason given)" : r.error))
            default: failures.append(Failure(key: item.key, error: "unknown outcome \(r.outcome.rawValue); may or may not be stored"))
            }
        }
    }

    private func fail(_ items: [AddItem], _ why: String, wholeCall: Bool) {
        for item in items { failures.append(Failure(key: item.key, error: why, wholeCall: wholeCall)) }
    }

    private func unacknowledgedBatch(_ items: [AddItem], _ why: String) {
        unacknowledged += items.count
        fail(items, why, wholeCall: true)
    }
}
