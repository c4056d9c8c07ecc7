import EmbedSys
import EmbedWire

/// Typed calls for the vector-store methods (ids 32…41) and for passing open files.
///
/// Every call throws `ClientError.rpc(status, message)` when the server refuses it; `get`
/// answers nil for NOT_FOUND instead.
extension EmbedClient {
    // MARK: Passing descriptors (SCM_RIGHTS)

    /// Sends one frame with `descriptors` attached (flag DESCRIPTORS set when there are any).
    /// The descriptors stay open here; the daemon gets its own duplicates.
    public func send(_ frame: Frame, descriptors: [FileDescriptor]) throws(ClientError) {
        guard !descriptors.isEmpty else { return try send(frame) }
        var f = frame
        f.flags |= Frame.descriptors
        do { try DescriptorPassing.sendAll(fd, f.encoded(), descriptors: descriptors) } catch {
            if error == .brokenPipe || error == .connectionReset { throw .closed }
            throw .io(error)
        }
    }

    /// Calls `method` passing `descriptors` (referred to by `FileRef.index` in the request).
    public func call<Response: ProtoMessage>(_ method: MethodID, _ request: some ProtoMessage, as: Response.Type = Response.self,
                                             descriptors: [FileDescriptor], deadlineMilliseconds: UInt32 = 0) throws(ClientError) -> Response {
        let id = makeCallID()
        try send(.request(callID: id, method: method, deadlineMilliseconds: deadlineMilliseconds, message: request), descriptors: descriptors)
        let reply = try awaitReply(callID: id)
        do { return try reply.decodePayload(as: Response.self) } catch {
            throw .protocolViolation("cannot decode \(Response.self): \(error)")
        }
    }

    // MARK: Embed

    /// Embeds `inputs` with `model` (empty = the default model); `files` are the descriptors
    /// that `Input.file` entries refer to by index. `truncation` says what happens to a text
    /// longer than the model's window (`.default`: the model's setting); `usage` in the
    /// response says which inputs were cut. `segments`: also each input's time windows with
    /// their vectors (audio and video models; `EmbedResponse.segments`). `prompt`: the model's
    /// sentence-transformers prompt for text inputs (`EmbedRequest.prompt`; "" = its default).
    public func embed(model: String = "", inputs: [Input], files: [FileDescriptor] = [], truncation: Truncation = .default,
                      segments: Bool = false, prompt: String = "", deadlineMilliseconds: UInt32 = 0) throws(ClientError) -> EmbedResponse {
        try call(.embed, EmbedRequest(model: model, inputs: inputs, truncation: truncation, segments: segments, prompt: prompt), as: EmbedResponse.self,
                 descriptors: files, deadlineMilliseconds: deadlineMilliseconds)
    }

    // MARK: Collections

    /// CreateCollection with every option.
    public func createCollection(_ request: CreateCollectionRequest) throws(ClientError) -> CollectionInfo {
        let r = try call(.createCollection, request, as: CreateCollectionResponse.self)
        guard let c = r.collection else { throw .protocolViolation("CreateCollectionResponse without a collection") }
        return c
    }

    /// Creates a collection bound to `model` (dimension, metric and space come from it).
    public func createCollection(_ name: String, model: String, acl: CollectionAcl? = nil,
                                 existOK: Bool = false) throws(ClientError) -> CollectionInfo {
        try createCollection(CreateCollectionRequest(name: name, model: model, acl: acl, existOk: existOK))
    }

    /// Creates a raw collection for vectors of `dimension` (metric "cosine", "l2" or "ip").
    public func createCollection(_ name: String, dimension: Int, metric: String = "", acl: CollectionAcl? = nil,
                                 existOK: Bool = false) throws(ClientError) -> CollectionInfo {
        try createCollection(CreateCollectionRequest(name: name, dimension: UInt32(clamping: dimension), metric: metric,
                                                     acl: acl, existOk: existOK))
    }

    /// Drops a collection and its files.
    public func dropCollection(_ name: String) throws(ClientError) {
        _ = try call(.dropCollection, DropCollectionRequest(name: name), as: DropCollectionResponse.self)
    }

    /// Compacts the collection in graph order once every record is linked (OptimizeCollection,
    /// protocol 1.1; needs write permission); returns its description afterwards.
    public func optimizeCollection(_ name: String) throws(ClientError) -> CollectionInfo {
        let r = try call(.optimizeCollection, OptimizeCollectionRequest(name: name), as: OptimizeCollectionResponse.self)
        guard let c = r.collection else { throw .protocolViolation("OptimizeCollectionResponse without a collection") }
        return c
    }

    /// Every collection, with the caller's permissions.
    public func listCollections() throws(ClientError) -> [CollectionInfo] {
        try call(.listCollections, ListCollectionsRequest(), as: ListCollectionsResponse.self).collections
    }

    /// One collection with its stats.
    public func describeCollection(_ name: String) throws(ClientError) -> CollectionInfo {
        let r = try call(.describeCollection, DescribeCollectionRequest(name: name), as: DescribeCollectionResponse.self)
        guard let c = r.collection else { throw .protocolViolation("DescribeCollectionResponse without a collection") }
        return c
    }

    // MARK: Records

    /// Stores `items` (embedding inputs with the collection's model). The call succeeds even
    /// when some items fail: check `results[i].outcome`. Items reported `.stored` are durable.
    /// `files` are the descriptors that `FileRef.index` in the items' inputs refer to.
    public func upsert(_ collection: String, _ items: [UpsertItem], skipExisting: Bool = false, model: String = "",
                       files: [FileDescriptor] = [], truncation: Truncation = .default,
                       deadlineMilliseconds: UInt32 = 0) throws(ClientError) -> UpsertResponse {
        try call(.upsert, UpsertRequest(collection: collection, items: items, skipExisting: skipExisting, model: model,
                                        truncation: truncation),
                 as: UpsertResponse.self, descriptors: files, deadlineMilliseconds: deadlineMilliseconds)
    }

    /// Searches with several queries at once; `results[i]` answers `queries[i]`.
    /// - Parameters: `k` 0 = 10; `ef` 0 = the collection's default; `filter` a JSON object.
    public func search(_ collection: String, _ queries: [SearchQuery], k: Int = 10, ef: Int = 0, filter: String = "",
                       model: String = "", files: [FileDescriptor] = [], truncation: Truncation = .default, prompt: String = "",
                       deadlineMilliseconds: UInt32 = 0) throws(ClientError) -> SearchResponse {
        try call(.search, SearchRequest(collection: collection, queries: queries, k: UInt32(clamping: k), ef: UInt32(clamping: ef),
                                        filter: filter, model: model, truncation: truncation, prompt: prompt),
                 as: SearchResponse.self, descriptors: files, deadlineMilliseconds: deadlineMilliseconds)
    }

    /// Searches by one text; the hits, best first.
    public func search(_ collection: String, text: String, k: Int = 10, filter: String = "") throws(ClientError) -> [SearchHit] {
        try search(collection, [.text(text)], k: k, filter: filter).results.first?.hits ?? []
    }

    /// Searches by one vector; the hits, best first.
    public func search(_ collection: String, vector: [Float], k: Int = 10, filter: String = "") throws(ClientError) -> [SearchHit] {
        try search(collection, [.vector(vector)], k: k, filter: filter).results.first?.hits ?? []
    }

    /// The record under `key`, or nil when there is none (NOT_FOUND).
    public func get(_ collection: String, key: String) throws(ClientError) -> GetResponse? {
        do {
            return try call(.get, GetRequest(collection: collection, key: key), as: GetResponse.self)
        } catch {
            if case .rpc(.notFound, let message) = error, message.hasPrefix("no record") { return nil }
            throw error
        }
    }

    /// Deletes keys; returns how many existed.
    @discardableResult
    public func delete(_ collection: String, keys: [String]) throws(ClientError) -> UInt64 {
        try deleteKeys(collection, keys: keys).deleted
    }

    /// Deletes keys and says how many existed and how many of their segment records
    /// (`KEY#t=…`, stored with `UpsertRequest.segments`) went with them.
    public func deleteKeys(_ collection: String, keys: [String]) throws(ClientError) -> DeleteResponse {
        try call(.delete, DeleteRequest(collection: collection, keys: keys), as: DeleteResponse.self)
    }

    /// One page of a collection's records in ascending key order, after `after` (empty: from
    /// the first); `nextAfter` of the reply continues, empty at the end.
    public func scan(_ collection: String, after: String = "", limit: Int = 0, filter: String = "",
                     vectors: Bool = false) throws(ClientError) -> ScanResponse {
        try call(.scan, ScanRequest(collection: collection, after: after, limit: UInt32(clamping: limit), filter: filter, vectors: vectors),
                 as: ScanResponse.self)
    }

    /// Live records in a collection.
    public func count(_ collection: String) throws(ClientError) -> UInt64 {
        try call(.count, CountRequest(collection: collection), as: CountResponse.self).count
    }

    /// Stats of one collection, or of every collection the caller may read (`collection` empty).
    public func stats(_ collection: String = "") throws(ClientError) -> [CollectionInfo] {
        try call(.stats, StatsRequest(collection: collection), as: StatsResponse.self).collections
    }
}
