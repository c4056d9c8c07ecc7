import EmbedSys

/// The write-ahead log of one collection and the writers waiting on it: each write is
/// acknowledged once its log record is fsync'd, and writers arriving during an fsync share the
/// next one. One writer at a time leads — appends what is queued, fsyncs, has the batch
/// applied to the collection's state — while the others wait; "log leadership" also excludes
/// checkpoints (which rewrite the log) and closing.
///
/// Invariants behind `@unchecked Sendable`: every `var` is guarded by `lock`, except
/// `outOfSpace`, which only the leader touches; the log is appended to, reset and closed
/// only by the leader (`wal.size` is read under `lock`).
final class GroupCommit: @unchecked Sendable {
    /// One writer's call, queued until a leader makes it durable.
    final class Waiter {
        let type: WriteAheadLog.RecordType
        let payload: [UInt8]
        let op: WriteOperation
        var seq: UInt64 = 0
        var affected = 0
        /// Set (under `lock`) when its group commit ran out of space: nothing of it was stored.
        var error: StoreError?
        init(type: WriteAheadLog.RecordType, payload: [UInt8], op: WriteOperation) {
            self.type = type
            self.payload = payload
            self.op = op
        }
    }

    let wal: WriteAheadLog
    private let lock = ConditionLock()
    private var queue: [Waiter] = []
    private var leaderBusy = false
    private var nextSeq: UInt64
    private var durableSeq: UInt64
    private var checkpointSeq: UInt64
    private var isClosed = false
    /// The collection directory's lock, released by closing (`release`) so it can be reopened.
    private var fileLock: FileLock?
    /// The last append ran out of space: logged when it starts and when writes succeed again,
    /// not once per refused write.
    private var outOfSpace = false

    private let state: CollectionState
    private let name: String
    private let logger: StoreLogger
    /// `OpenOptions.logSyncObserver`: told each append's duration.
    private let syncObserver: (@Sendable (UInt64) -> Void)?

    init(wal: WriteAheadLog, lastSeq: UInt64, checkpointSeq: UInt64, fileLock: FileLock?, state: CollectionState,
         name: String, logger: @escaping StoreLogger, syncObserver: (@Sendable (UInt64) -> Void)? = nil) {
        self.syncObserver = syncObserver
        self.wal = wal
        self.nextSeq = lastSeq + 1
        self.durableSeq = lastSeq
        self.checkpointSeq = checkpointSeq
        self.fileLock = fileLock
        self.state = state
        self.name = name
        self.logger = logger
    }

    /// The last durable sequence number, the one the last checkpoint covers, and the log's size.
    var positions: (durable: UInt64, checkpoint: UInt64, walBytes: Int64) {
        lock.withLock { (durableSeq, checkpointSeq, wal.size) }
    }

    /// The log's size in bytes.
    var walSize: Int64 { lock.withLock { wal.size } }

    /// Makes `w` durable (sharing an fsync with concurrent writers), has it applied, and returns
    /// its affected count. `committed` is told the log's size, the batch's sequence numbers and
    /// its record count after each batch this call leads.
    /// - Complexity: one fsync shared by every writer queued meanwhile, plus applying the batch.
    func submit(_ w: Waiter, committed: (_ walBytes: Int64, _ batch: ClosedRange<UInt64>, _ records: Int) -> Void) throws(StoreError) -> Int {
        let leads = try lock.withLock { () throws(StoreError) -> Bool in
            if isClosed { throw StoreError.closed(name) }
            w.seq = nextSeq
            nextSeq += 1
            queue.append(w)
            while true {
                if let error = w.error { throw error }
                if durableSeq >= w.seq { return false }
                if let failure = state.anyFailure {
                    queue.removeAll { $0 === w }
                    throw failure
                }
                // Closed or dropped while still queued (no leader took it): never written.
                // Once a leader has taken it, its outcome (durable or failed) is awaited.
                if isClosed, let i = queue.firstIndex(where: { $0 === w }) {
                    queue.remove(at: i)
                    throw StoreError.closed(name)
                }
                if !leaderBusy { leaderBusy = true; return true }
                lock.wait()
            }
        }
        guard leads else { return w.affected }
        defer { unlead() }
        // Lead until our own record is durable; batches are whatever queued meanwhile.
        var rounds = 0
        var lastBatch = 0
        while true {
            if rounds > 0 && lastBatch > 1 {
                // The writers just acknowledged usually come straight back: give them a moment
                // (yielding the CPU to them) to join this fsync instead of paying for the next.
                let deadline = Clock.monotonicNanoseconds() + 60_000
                while lock.withLock({ queue.count }) < lastBatch && Clock.monotonicNanoseconds() < deadline { OSThread.yield() }
            }
            let batch = lock.withLock { () -> [Waiter] in
                defer { queue.removeAll(keepingCapacity: true) }
                return queue
            }
            if batch.isEmpty { break }
            lastBatch = batch.count
            var bytes = ByteWriter(capacity: batch.reduce(0) { $0 + $1.payload.count + WriteAheadLog.recordHeaderSize })
            for (i, item) in batch.enumerated() {
                WriteAheadLog.frame(seq: item.seq, type: item.type, payload: item.payload, indexInGroup: i, into: &bytes)
            }
            let syncStarted = syncObserver == nil ? 0 : Clock.monotonicNanoseconds()
            var appendError: StoreError? = nil
            do { try wal.appendAndSync(bytes.bytes) } catch { appendError = error }
            if let syncObserver {
                let now = Clock.monotonicNanoseconds()
                syncObserver(now > syncStarted ? now - syncStarted : 0)
            }
            if let error = appendError {
                if refuseAfterFailedAppend(batch, error) {
                    if batch.contains(where: { $0 === w }) { throw error }
                    break  // our own write was durable in an earlier round
                }
                if batch.contains(where: { $0 === w }) { throw StoreError.failed("\(error)") }
                break
            }
            if outOfSpace {
                outOfSpace = false
                logger(.info, "\(name): writes succeed again (disk space was freed)")
            }
            do {
                let affected = try state.applyCommitted(batch.map(\.op))
                for (item, n) in zip(batch, affected) { item.affected = n }
            } catch {
                logger(.error, "\(name): \(error); the collection is failed until reopened")
                state.fail(.failed("\(error)"))
                lock.withLock { lock.broadcast() }
                throw StoreError.failed("\(error)")
            }
            let walBytes = lock.withLock { () -> Int64 in
                durableSeq = batch.last!.seq
                lock.broadcast()
                return wal.size
            }
            committed(walBytes, batch[0].seq...batch.last!.seq, batch.reduce(0) { $0 + $1.op.recordCount })
            // Keep leading for a few rounds while others queued meanwhile: handing over costs
            // a wake-up and a context switch per fsync on a busy machine.
            rounds += 1
            if lock.withLock({ durableSeq >= w.seq && (rounds >= 8 || queue.isEmpty) }) { break }
        }
        return w.affected
    }

    /// After a failed append (leadership held): the batch's writers are told, and the
    /// collection goes on. Out of space, the log was cut back to its last durable record, so
    /// only this batch fails; its sequence numbers pass to the writers queued behind it, which
    /// keeps the log gap-free (open treats a gap as lost data). Any other failure refuses all
    /// further writes until reopened. Returns whether the failure was out of space.
    private func refuseAfterFailedAppend(_ batch: [Waiter], _ error: StoreError) -> Bool {
        guard error.isOutOfSpace else {
            logger(.error, "\(name): \(error); refusing further writes until reopened (reads continue)")
            state.lock.withWriteLock { state.writeFailure = state.writeFailure ?? .failed("\(error)") }
            lock.withLock { lock.broadcast() }
            return false
        }
        if !outOfSpace {
            outOfSpace = true
            logger(.error, "\(name): \(error): the disk is full; writes are refused until space is freed, reads continue")
        }
        lock.withLock {
            for item in batch { item.error = error }
            nextSeq = batch[0].seq
            for item in queue {
                item.seq = nextSeq
                nextSeq += 1
            }
            lock.broadcast()
        }
        return true
    }

    /// Becomes the only writer of the log (waits for the current leader).
    func lead() throws(StoreError) {
        try lock.withLock { () throws(StoreError) in
            if isClosed { throw StoreError.closed(name) }
            while leaderBusy { lock.wait() }
            leaderBusy = true
        }
    }

    func unlead() {
        lock.withLock {
            leaderBusy = false
            lock.broadcast()
        }
    }

    /// Records that the snapshot now covers the log up to `seq` (leadership held).
    func checkpointed(at seq: UInt64) { lock.withLock { checkpointSeq = seq } }

    /// Refuses new writers (`.closed`); returns whether it was already closed.
    func closeToWriters() -> Bool {
        lock.withLock { () -> Bool in
            defer { isClosed = true }
            return isClosed
        }
    }

    /// Closes to writers and fails those still queued, waits for the current leader, and keeps
    /// leadership for good: nothing writes into the directory after this.
    func closeAndKeepLeadership() {
        lock.withLock {
            isClosed = true
            lock.broadcast()
            while leaderBusy { lock.wait() }
            leaderBusy = true
        }
    }

    /// Takes leadership for closing (after `closeToWriters`); returns whether the log holds
    /// records the snapshot lacks.
    func leadToClose() -> Bool {
        lock.withLock { () -> Bool in
            while leaderBusy { lock.wait() }
            leaderBusy = true
            return durableSeq > checkpointSeq
        }
    }

    /// Releases the directory lock (and leadership, if `unlead`) once closed.
    func release(unlead: Bool) {
        lock.withLock {
            if unlead { leaderBusy = false }
            fileLock = nil
            if unlead { lock.broadcast() }
        }
    }
}
