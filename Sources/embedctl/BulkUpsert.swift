import EmbedClient
import EmbedSys
import EmbedWire

/// Sends `embedctl add`'s items to the daemon in batches and records, per key, what happened.
///
/// Durability: a key is reported stored only when the daemon's answer says `UPSERT_STORED`,
/// which it sends after the write-ahead log record is fsync'd. Keys of a batch whose answer
/// never came (the daemon died, the connection broke) are reported failed with "may or may
/// not be stored": re-running with `--skip-existing` settles them.
///
/// Two batches are in flight at a time, so the model embeds one batch while the store syncs
/// the previous one. A batch refused as a whole for overload (RESOURCE_EXHAUSTED) or a
/// passing unavailability is retried with back-off; any other refusal of a whole call
/// (permission, unknown collection, wrong model) stops the run and fails the rest with the
/// reason.
final class BulkUpsert {
    struct Options {
        var collection: String
        var model = ""
        var skipExisting = false
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
    }

    private let client: EmbedClient
    let options: Options
    private(set) var stored: [String] = []
    private(set) var skipped: [String] = []
    private(set) var failures: [Failure] = []

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

    private struct Batch {
        var items: [AddItem]
        var attempts = 0
    }

    private struct Prepared {
        var items: [AddItem] = []
        var wire: [UpsertItem] = []
        var files: [FileDescriptor] = []
        var bytes = 0
    }

    /// Sends every item; `progress` is told after each answer.
    func run(_ all: [AddItem], progress: ProgressBar) {
        let items = all.filter { item in
            guard let why = localProblem(item) else { return true }
            failures.append(Failure(key: item.key, error: why))
            return false
        }
        var next = 0
        var inFlight: [(id: UInt32, batch: Batch)] = []
        var stop: String?
        var retryWaited = 0.0
        var backoff = 0.01

        /// Sends what of `batch` could be prepared (unreadable files are recorded as failures
        /// here, once) and returns the call id with the batch as sent — the items the answer's
        /// results belong to, and all a retry resends.
        func send(_ batch: Batch) -> (UInt32, Batch)? {
            let p = prepare(batch.items)
            guard !p.wire.isEmpty else { return nil }
            var sent = batch
            sent.items = p.items
            defer { for fd in p.files { try? fd.close() } }
            let id = client.makeCallID()
            let frame = Frame.request(callID: id, method: .upsert, deadlineMilliseconds: options.deadlineMilliseconds,
                                      message: UpsertRequest(collection: options.collection, items: p.wire,
                                                             skipExisting: options.skipExisting, model: options.model))
            do { try client.send(frame, descriptors: p.files) } catch {
                fail(p.items, "not sent: \(error.description)")
                stop = error.description
                return nil
            }
            return (id, sent)
        }

        while true {
            while stop == nil && inFlight.count < Self.window && next < items.count {
                let batch = Batch(items: takeBatch(items, from: &next))
                if let (id, sent) = send(batch) { inFlight.append((id, sent)) }
            }
            guard !inFlight.isEmpty else { break }
            let (id, batch) = inFlight.removeFirst()
            do {
                let frame = try client.awaitReply(callID: id)
                let response: UpsertResponse
                do { response = try frame.decodePayload(as: UpsertResponse.self) } catch {
                    fail(batch.items, "the daemon's answer cannot be decoded (\(error)); may or may not be stored")
                    stop = "protocol error"
                    continue
                }
                record(batch.items, response)
                backoff = 0.01
            } catch {
                let retryable: Bool
                switch error {
                case .rpc(.resourceExhausted, _), .rpc(.unavailable, _): retryable = true
                default: retryable = false
                }
                if retryable && stop == nil && retryWaited < options.retrySeconds {
                    Clock.sleep(seconds: backoff)
                    retryWaited += backoff
                    backoff = min(backoff * 2, 1)
                    var again = batch
                    again.attempts += 1
                    if let (id, sent) = send(again) { inFlight.append((id, sent)) }
                    continue
                }
                switch error {
                case .rpc(let code, let message):
                    fail(batch.items, "\(code): \(message)")
                    stop = stop ?? "\(code): \(message)"
                case .timedOut:
                    fail(batch.items, "no answer within the timeout; may or may not be stored")
                    stop = stop ?? "timed out waiting for the daemon"
                default:
                    fail(batch.items, "not acknowledged (\(error.description)); may or may not be stored")
                    stop = stop ?? error.description
                }
            }
            progress.update(done: done, failed: failures.count)
        }
        if let stop, next < items.count {
            fail(Array(items[next...]), "not sent: stopped after an earlier error (\(stop))")
        }
        progress.update(done: done, failed: failures.count, force: true)
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

    /// The next batch: up to `batchSize` items and `maxBatchBytes` of payload (at least one item).
    private func takeBatch(_ items: [AddItem], from next: inout Int) -> [AddItem] {
        var out: [AddItem] = []
        var bytes = 0
        var files = 0
        while next < items.count && out.count < options.batchSize {
            let item = items[next]
            let size = estimate(item)
            let isFile: Bool
            if case .file = item.content { isFile = true } else { isFile = false }
            if !out.isEmpty && (bytes + size > options.maxBatchBytes || (isFile && files >= Self.maxDescriptorsPerBatch)) { break }
            out.append(item)
            bytes += size
            if isFile { files += 1 }
            next += 1
        }
        return out
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

    /// Builds the wire items; files are opened (or read) now, and an unreadable one fails alone.
    private func prepare(_ items: [AddItem]) -> Prepared {
        var p = Prepared()
        for item in items {
            let value: UpsertItem.Value
            switch item.content {
            case .text(let s): value = .input(.text(s))
            case .vector(let v): value = .vector(Vector(values: v))
            case .file(let path):
                if options.sendBytes {
                    let bytes: [UInt8]
                    do { bytes = try FileSystem.readFile(path) } catch {
                        failures.append(Failure(key: item.key, error: "cannot read \(path): \(error)"))
                        continue
                    }
                    switch FileInputs.bytesInput(path: path, bytes: bytes, mime: options.mime) {
                    case .success(let input): value = .input(input)
                    case .failure(let e):
                        failures.append(Failure(key: item.key, error: e.message))
                        continue
                    }
                } else {
                    let fd: FileDescriptor
                    do { fd = try FileDescriptor.open(path, .readOnly) } catch {
                        failures.append(Failure(key: item.key, error: "cannot open \(path): \(error)"))
                        continue
                    }
                    let ref = FileRef(index: UInt32(p.files.count), mimeType: FileInputs.mimeType(path: path, override: options.mime))
                    p.files.append(fd)
                    value = .input(Input(.file(ref)))
                }
            }
            p.items.append(item)
            p.wire.append(UpsertItem(key: item.key, value: value, metadata: item.metadata ?? ""))
        }
        return p
    }

    private func record(_ items: [AddItem], _ response: UpsertResponse) {
        guard response.results.count == items.count else {
            // Cannot tell which result is whose: treat the batch as unacknowledged.
            fail(items, "the daemon answered \(response.results.count) results for \(items.count) items; may or may not be stored")
            return
        }
        for (item, r) in zip(items, response.results) {
            switch r.outcome {
            case .stored: stored.append(item.key)
            case .skippedExisting: skipped.append(item.key)
            case .failed: failures.append(Failure(key: item.key, error: r.error.isEmpty ? "failed (no reason given)" : r.error))
            default: failures.append(Failure(key: item.key, error: "unknown outcome \(r.outcome.rawValue); may or may not be stored"))
            }
        }
    }

    private func fail(_ items: [AddItem], _ why: String) {
        for item in items { failures.append(Failure(key: item.key, error: why)) }
    }
}
