import EmbedStore
import EmbedWire

extension StoreService {
    /// Records per Changes page when the request says 0, and the most it may ask for.
    static let defaultChangesLimit = 1000
    static let maxChangesLimit = 100_000

    /// Registers Changes, SetMirror, AckMirror and ListMirrors (ids 44–47).
    func installMirrors(on server: Server, writes: WorkQueue) {
        server.register(.changes, .deferred(ChangesRequest.self) { [self] ctx, req, done in
            on(reads, ctx, done) { [self] () throws(RPCError) in try changes(ctx, req) }
        })
        server.register(.listMirrors, .deferred(ListMirrorsRequest.self) { [self] ctx, req, done in
            on(reads, ctx, done) { [self] () throws(RPCError) in
                let (c, _) = try open(req.collection, ctx, .read)
                return ListMirrorsResponse(mirrors: c.mirrorStatuses().map(StoreService.mirrorInfo))
            }
        })
        server.register(.setMirror, .deferred(SetMirrorRequest.self) { [self] ctx, req, done in
            on(writes, ctx, done) { [self] () throws(RPCError) in try setMirror(ctx, req) }
        })
        server.register(.ackMirror, .deferred(AckMirrorRequest.self) { [self] ctx, req, done in
            on(writes, ctx, done) { [self] () throws(RPCError) in
                let (c, _) = try open(req.collection, ctx, .write)
                do throws(StoreError) {
                    return AckMirrorResponse(mirror: StoreService.mirrorInfo(try c.ackMirror(target: req.target, sequence: req.sequence)))
                } catch { throw StoreService.rpc(error) }
            }
        })
    }

    /// Changes (id 44): one page of acknowledged writes after a sequence, bounded by the
    /// reply frame.
    func changes(_ ctx: CallContext, _ req: ChangesRequest) throws(RPCError) -> ChangesResponse {
        let (c, _) = try open(req.collection, ctx, .read)
        guard Int(req.limit) <= StoreService.maxChangesLimit else {
            throw RPCError(.invalidArgument, "limit \(req.limit) is above the most a Changes page may hold (\(StoreService.maxChangesLimit))")
        }
        let limit = req.limit == 0 ? StoreService.defaultChangesLimit : Int(req.limit)
        let page: ChangesPage
        do throws(StoreError) {
            page = try c.changes(after: req.afterSequence, limit: limit, bytesLimit: embed.config.limits.maxFrameBytes / 2)
        } catch { throw StoreService.rpc(error) }
        return ChangesResponse(changes: page.changes.map { change in
            switch change.operation {
            case .upsert(let records):
                return Change(sequence: change.sequence, records: records.map {
                    ScanRecord(key: $0.key, vector: Vector(values: $0.vector), metadata: $0.metadata ?? "", document: $0.document ?? "")
                })
            case .delete(let keys):
                return Change(sequence: change.sequence, delete: true, keys: keys)
            }
        }, nextSequence: page.next, lastSequence: page.lastSequence)
    }

    /// SetMirror (id 45): register, reset or remove a mirror.
    func setMirror(_ ctx: CallContext, _ req: SetMirrorRequest) throws(RPCError) -> SetMirrorResponse {
        let (c, _) = try open(req.collection, ctx, .write)
        guard !req.target.isEmpty else { throw RPCError(.invalidArgument, "no mirror target in the request") }
        guard [MirrorAction.register, .reset, .remove].contains(req.action) else {
            throw RPCError(.invalidArgument, "unknown mirror action \(req.action.rawValue) (0 register, 1 reset, 2 remove)")
        }
        do throws(StoreError) {
            switch req.action {
            case .register, .reset:
                let cursor = try c.registerMirror(target: req.target, prefix: req.prefix, reset: req.action == .reset)
                log.info("collection '\(c.name)': mirror to \(req.target) \(req.action == .reset ? "reset" : "registered") at sequence \(cursor.sequence) by uid \(ctx.peer.uid)")
                let status = c.mirrorStatuses().first { $0.cursor.target == req.target }
                return SetMirrorResponse(mirror: status.map(StoreService.mirrorInfo))
            default:
                try c.removeMirror(target: req.target)
                log.info("collection '\(c.name)': mirror to \(req.target) removed by uid \(ctx.peer.uid)")
                return SetMirrorResponse()
            }
        } catch { throw StoreService.rpc(error) }
    }

    static func mirrorInfo(_ s: MirrorStatus) -> MirrorInfo {
        MirrorInfo(target: s.cursor.target, prefix: s.cursor.prefix, sequence: s.cursor.sequence, lastSequence: s.lastSequence,
                   lagRecords: s.lagRecords, lagSeconds: s.lagSeconds, stale: s.stale, registeredUnixMs: s.cursor.registeredUnixMs,
                   ackedUnixMs: s.cursor.ackedUnixMs)
    }

    /// Mirrors and their largest lag into a CollectionInfo (with stats).
    static func addMirrors(_ c: VectorCollection, to i: inout CollectionInfo) {
        let statuses = c.mirrorStatuses()
        guard !statuses.isEmpty else { return }
        i.mirrors = statuses.map(mirrorInfo)
        i.mirrorLagRecords = statuses.map(\.lagRecords).max() ?? 0
        i.mirrorLagSeconds = statuses.map(\.lagSeconds).max() ?? 0
        i.mirrorRetainedBytes = UInt64(max(0, c.retainedLogBytes))
    }
}
