import EmbedStore
import EmbedWire

extension StoreService {
    /// Records per Scan page when the request says 0.
    static let defaultScanLimit = 1000

    /// Scan (id 43): one page of a collection's records in key order, bounded by the reply
    /// frame (a page cut short by it still returns its `next_after`).
    func scan(_ ctx: CallContext, _ req: ScanRequest) throws(RPCError) -> ScanResponse {
        let (c, _) = try open(req.collection, ctx, .read)
        let limit = req.limit == 0 ? StoreService.defaultScanLimit : Int(req.limit)
        let filter: MetadataFilter?
        do throws(StoreError) { filter = try MetadataFilter(json: req.filter) } catch { throw StoreService.rpc(error) }
        let page: ScanPage
        do throws(StoreError) {
            // Room for the protobuf framing of each record beside the record's own bytes.
            page = try c.scan(after: req.after, limit: limit, filter: filter, vectors: req.vectors,
                              bytesLimit: embed.config.limits.maxFrameBytes / 2)
        } catch {
            throw StoreService.rpc(error)
        }
        return ScanResponse(records: page.records.map {
            ScanRecord(key: $0.key, vector: req.vectors ? Vector(values: $0.vector) : nil, metadata: $0.metadata ?? "",
                       document: $0.document ?? "")
        }, nextAfter: page.next ?? "")
    }
}
