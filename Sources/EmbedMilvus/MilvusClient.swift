import EmbedJSON
import EmbedSys

/// A Milvus collection over the REST API (v1 `/v1/vector/...` or v2 `/v2/vectordb/...`).
///
/// Typical use (what `embedctl export` and the mirror do):
/// ```
/// let client = MilvusClient(url: try MilvusURL(parsing: "milvus://localhost:19530/docs"),
///                           transport: HTTPMilvusTransport(host: "localhost", port: 19530), token: token)
/// try client.detectAPI()                              // v2 if the server answers it, else v1
/// var schema = try client.describe()                  // nil: no such collection
/// if schema == nil { schema = try client.create(.init(dimension: 384, metric: "cosine")) }
/// try client.write(records, schema: schema!, replace: true)   // insert, or replace by key
/// try client.delete(keys: ["a"], schema: schema!)
/// let n = try client.count(schema: schema!)
/// ```
/// Every call retries transient failures under `retry`; a write is idempotent under retry
/// (a retried insert first deletes its keys, so a lost answer never leaves duplicates).
public final class MilvusClient {
    public let url: MilvusURL
    public private(set) var api: MilvusAPI
    public var retry: MilvusRetryPolicy
    /// Called before each retry with the error and the wait (for logs and progress lines).
    public var onRetry: ((MilvusError, Double) -> Void)?
    private let transport: any MilvusTransport
    private let headers: [(String, String)]

    /// - Parameters:
    ///   - token: `USER:PASSWORD` or an API key, sent as `Authorization: Bearer TOKEN`; nil for none.
    ///   - api: the API to speak until `detectAPI` is called (which `.auto` callers do first).
    public init(url: MilvusURL, transport: any MilvusTransport, token: String? = nil, api: MilvusAPI = .v1,
                retry: MilvusRetryPolicy = MilvusRetryPolicy()) {
        self.url = url
        self.transport = transport
        self.api = api
        self.retry = retry
        var h = [("Content-Type", "application/json"), ("Accept", "application/json")]
        if let token, !token.isEmpty { h.append(("Authorization", "Bearer " + token)) }
        headers = h
    }

    // MARK: API detection

    /// Picks the API: `choice` if forced, else v2 where the server answers
    /// `/v2/vectordb/collections/list` and v1 where it says 404 (Milvus 2.3). Returns it.
    @discardableResult
    public func detectAPI(_ choice: MilvusAPIChoice = .auto) throws(MilvusError) -> MilvusAPI {
        switch choice {
        case .v1: api = .v1
        case .v2: api = .v2
        case .auto:
            let (status, body) = try exchange("POST", "/v2/vectordb/collections/list", body: MilvusWire.body(url, []))
            if status == 404 {
                api = .v1
            } else {
                _ = try MilvusWire.data(status: status, body: body, path: "/v2/vectordb/collections/list")
                api = .v2
            }
        }
        return api
    }

    // MARK: Collections

    /// The collection's schema as the writer needs it, or nil when it does not exist.
    /// Throws `.incompatible` for a collection embedd's records cannot go into.
    public func describe() throws(MilvusError) -> MilvusSchema? {
        let data: JSONValue
        do {
            switch api {
            case .v1:
                var q = "/v1/vector/collections/describe?collectionName=" + Self.percentEncoded(url.collection)
                if let db = url.database { q += "&dbName=" + Self.percentEncoded(db) }
                data = try call("GET", q, body: "")
            case .v2:
                data = try call("POST", "/v2/vectordb/collections/describe", body: MilvusWire.body(url, []))
            }
        } catch .server(let code, let message, _) where code == 100 || message.contains("not found") || message.contains("can't find") {
            return nil
        }
        return try Self.schema(from: data, collection: url.collection)
    }

    /// Reads a describe answer of either API (v1: fields[].{name,type:"FloatVector(4)",primaryKey,autoId};
    /// v2: fields[].{name,type:"FloatVector",primaryKey,autoId,params:[{key:"dim",value:"4"}]}).
    static func schema(from data: JSONValue, collection: String) throws(MilvusError) -> MilvusSchema {
        guard let fields = data["fields"]?.array else { throw .protocolError("describe of '\(collection)' has no fields") }
        var primary: MilvusSchema.PrimaryKey?
        var dimension: Int?
        var vectorFields: [String] = []
        for f in fields {
            let name = f["name"]?.string ?? ""
            let type = f["type"]?.string ?? ""
            if f["primaryKey"]?.bool == true {
                let collectionAuto = data["autoId"]?.bool ?? data["autoID"]?.bool ?? false
                let auto = f["autoId"]?.bool ?? f["autoID"]?.bool ?? collectionAuto
                if type.lowercased() == "int64" {
                    primary = auto ? .autoID(field: name) : .hashed(field: name)
                } else if type.lowercased() == "varchar" && name == "key" && !auto {
                    primary = .key
                } else {
                    throw .incompatible("Milvus collection '\(collection)' has primary key '\(name)' of type \(type)"
                                        + (auto ? " (autoID)" : "") + "; embedd's records need an Int64 key or a VarChar key named 'key'")
                }
            }
            if type.hasPrefix("FloatVector") {
                vectorFields.append(name)
                guard name == "vector" else { continue }
                if let open = type.firstIndex(of: "("), let close = type.firstIndex(of: ")") {
                    dimension = Int(type[type.index(after: open)..<close])
                }
                for p in f["params"]?.array ?? [] where p["key"]?.string == "dim" {
                    dimension = p["value"]?.string.flatMap { Int($0) } ?? p["value"]?.int
                }
                if dimension == nil { dimension = f["dimension"]?.int ?? f["dim"]?.int }
            }
        }
        guard let primary else { throw .protocolError("describe of '\(collection)' names no primary key") }
        guard vectorFields.contains("vector") else {
            throw .incompatible("Milvus collection '\(collection)' has no float vector field named 'vector'"
                                + (vectorFields.isEmpty ? "" : " (it has \(vectorFields.joined(separator: ", ")))"))
        }
        guard let dimension else { throw .protocolError("describe of '\(collection)' gives no dimension for 'vector'") }
        let metric = (data["indexes"]?.array ?? []).first { $0["fieldName"]?.string == "vector" }?["metricType"]?.string
        let dynamic = data["enableDynamicField"]?.bool ?? false
        let schema = MilvusSchema(primaryKey: primary, dimension: dimension, metric: metric, dynamicFields: dynamic)
        if !dynamic {
            throw .incompatible("Milvus collection '\(collection)' has no dynamic fields; embedd's key, metadata and document "
                                + "are stored in dynamic fields (create it with enable_dynamic_field=True, or let --create make it)")
        }
        return schema
    }

    /// What `create` makes.
    public struct Spec: Sendable, Equatable {
        public var dimension: Int
        /// embedd's metric name: cosine, l2 or ip.
        public var metric: String
        /// HNSW parameters (v2 only: v1's create takes no index parameters).
        public var hnswM: Int
        public var efConstruction: Int

        public init(dimension: Int, metric: String, hnswM: Int = 16, efConstruction: Int = 200) {
            self.dimension = dimension
            self.metric = metric
            self.hnswM = hnswM
            self.efConstruction = efConstruction
        }
    }

    /// Creates the collection and returns its schema as described back.
    ///
    /// v1: `/v1/vector/collections/create` with the dimension and metric (Milvus makes an
    /// autoID Int64 key `id`, the vector field `vector`, dynamic fields, a default index, and
    /// loads it). v2: a VarChar primary key `key` (max 65,535 bytes), the vector field, dynamic
    /// fields and an HNSW index with the collection's M and efConstruction.
    @discardableResult
    public func create(_ spec: Spec) throws(MilvusError) -> MilvusSchema {
        guard let metric = MilvusMetric.milvusName(spec.metric) else {
            throw .incompatible("embedd's metric '\(spec.metric)' has no Milvus equivalent")
        }
        switch api {
        case .v1:
            _ = try call("POST", "/v1/vector/collections/create", body: MilvusWire.body(url, [
                ("dimension", String(spec.dimension)), ("metricType", MilvusWire.quoted(metric)),
                ("primaryField", "\"id\""), ("vectorField", "\"vector\""),
            ]))
        case .v2:
            let schema = """
            {"autoID":false,"enableDynamicField":true,"fields":[\
            {"fieldName":"key","dataType":"VarChar","isPrimary":true,"elementTypeParams":{"max_length":"65535"}},\
            {"fieldName":"vector","dataType":"FloatVector","elementTypeParams":{"dim":"\(spec.dimension)"}}]}
            """
            let index = """
            [{"fieldName":"vector","indexName":"vector","metricType":"\(metric)","indexType":"HNSW",\
            "params":{"M":\(spec.hnswM),"efConstruction":\(spec.efConstruction)}}]
            """
            _ = try call("POST", "/v2/vectordb/collections/create", body: MilvusWire.body(url, [
                ("schema", schema), ("indexParams", index),
            ]))
        }
        guard let described = try describe() else {
            throw .protocolError("collection '\(url.collection)' was created but describe does not find it")
        }
        return described
    }

    // MARK: Entities

    /// Writes `records` (each key once). `replace: false` inserts (for keys known to be absent,
    /// as in a fresh export); `replace: true` first removes any entity of the same key (v2
    /// with the key as primary key: one upsert; otherwise delete by key, then insert).
    /// A retried attempt always replaces, so a lost answer never leaves a duplicate.
    public func write(_ records: [MilvusRecord], schema: MilvusSchema, replace: Bool) throws(MilvusError) {
        guard !records.isEmpty else { return }
        if let bad = records.first(where: { $0.vector.count != schema.dimension }) {
            throw .incompatible("record '\(bad.key)' has \(bad.vector.count) dimensions; the Milvus collection has \(schema.dimension)")
        }
        var hashed = false
        if case .hashed = schema.primaryKey {
            hashed = true
            var seen: [Int64: String] = [:]
            for r in records {
                let id = MilvusKeyHash.id(r.key)
                if let other = seen.updateValue(r.key, forKey: id), other != r.key {
                    throw .incompatible("keys '\(other)' and '\(r.key)' hash to the same Milvus id \(id); "
                                        + "export into a collection with a VarChar key instead (--api v2)")
                }
            }
        }
        let rows = try MilvusRecord.rows(records, hashedID: hashed)
        var first = true
        try retrying { () throws(MilvusError) in
            let mustReplace = replace || !first
            first = false
            try self.writeOnce(rows, keys: records.map(\.key), schema: schema, replace: mustReplace)
        }
    }

    private func writeOnce(_ rows: String, keys: [String], schema: MilvusSchema, replace: Bool) throws(MilvusError) {
        switch (api, schema.primaryKey) {
        case (.v2, .key):
            _ = try callOnce("POST", replace ? "/v2/vectordb/entities/upsert" : "/v2/vectordb/entities/insert",
                             body: MilvusWire.body(url, [("data", rows)]))
        case (.v2, _):
            if replace { try deleteOnce(keys: keys, schema: schema) }
            _ = try callOnce("POST", "/v2/vectordb/entities/insert", body: MilvusWire.body(url, [("data", rows)]))
        case (.v1, _):
            if replace { try deleteOnce(keys: keys, schema: schema) }
            _ = try callOnce("POST", "/v1/vector/insert", body: MilvusWire.body(url, [("data", rows)]))
        }
    }

    /// Deletes the entities of `keys` (absent keys are no error).
    public func delete(keys: [String], schema: MilvusSchema) throws(MilvusError) {
        guard !keys.isEmpty else { return }
        try retrying { () throws(MilvusError) in try self.deleteOnce(keys: keys, schema: schema) }
    }

    private func deleteOnce(keys: [String], schema: MilvusSchema) throws(MilvusError) {
        let filter = MilvusWire.quoted(schema.selector(keys: keys))
        switch api {
        case .v1: _ = try callOnce("POST", "/v1/vector/delete", body: MilvusWire.body(url, [("filter", filter)]))
        case .v2: _ = try callOnce("POST", "/v2/vectordb/entities/delete", body: MilvusWire.body(url, [("filter", filter)]))
        }
    }

    /// The number of entities matching `filter` (default: every entity the exporter writes),
    /// by a `count(*)` query. Milvus's default consistency is bounded: a count right after a
    /// write may lag a few seconds (callers that check poll).
    public func count(schema: MilvusSchema, filter: String? = nil) throws(MilvusError) -> Int {
        let path = api == .v1 ? "/v1/vector/query" : "/v2/vectordb/entities/query"
        let data = try call("POST", path, body: MilvusWire.body(url, [
            ("filter", MilvusWire.quoted(filter ?? schema.everything)), ("outputFields", "[\"count(*)\"]"), ("limit", "0"),
        ]))
        guard let row = data.array?.first, let value = row["count(*)"] else {
            throw .protocolError("count(*) query answered \(JSONWriter.compact(data))")
        }
        if let n = value.int ?? value.string.flatMap({ Int($0) }) { return n }
        throw .protocolError("count(*) is \(JSONWriter.compact(value))")
    }

    // MARK: Plumbing

    /// `call` with retries.
    private func call(_ method: String, _ path: String, body: String) throws(MilvusError) -> JSONValue {
        var result = JSONValue.null
        try retrying { () throws(MilvusError) in result = try self.callOnce(method, path, body: body) }
        return result
    }

    private func callOnce(_ method: String, _ path: String, body: String) throws(MilvusError) -> JSONValue {
        let (status, answer) = try exchange(method, path, body: body)
        if status == 404 && api == .v2 && path.hasPrefix("/v2/") {
            throw .protocolError("the server has no REST v2 API (HTTP 404 for \(path)); Milvus 2.3 speaks v1: use --api v1 or auto")
        }
        return try MilvusWire.data(status: status, body: answer, path: String(path.prefix { $0 != "?" }))
    }

    private func exchange(_ method: String, _ path: String, body: String) throws(MilvusError) -> (status: Int, body: [UInt8]) {
        try transport.exchange(method: method, path: path, headers: headers, body: Array(body.utf8))
    }

    /// Runs `attempt` until it succeeds, a permanent error, or the policy's last try.
    private func retrying(_ attempt: () throws(MilvusError) -> Void) throws(MilvusError) {
        var tries = 0
        while true {
            tries += 1
            do throws(MilvusError) {
                try attempt()
                return
            } catch {
                guard error.isTransient, retry.maxAttempts == 0 || tries < retry.maxAttempts else { throw error }
                let wait = retry.delay(after: tries)
                onRetry?(error, wait)
                Clock.sleep(seconds: wait)
            }
        }
    }

    /// `s` with everything but unreserved characters percent-encoded (for query strings).
    static func percentEncoded(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                let hex = String(b, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" : "") + hex
            }
        }
        return out
    }
}
