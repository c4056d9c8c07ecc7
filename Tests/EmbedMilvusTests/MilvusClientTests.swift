import EmbedJSON
import EmbedMilvus
import Testing

/// Stands in for the Milvus server (a peer, not one of our parts): answers from a script and
/// records each request, so the requests each API version sends can be checked exactly.
final class ScriptedMilvus: MilvusTransport {
    var requests: [(method: String, path: String, headers: [(String, String)], body: String)] = []
    var answer: (String, String) -> (Int, String)

    init(answer: @escaping (String, String) -> (Int, String)) { self.answer = answer }

    func exchange(method: String, path: String, headers: [(String, String)], body: [UInt8]) throws(MilvusError) -> (status: Int, body: [UInt8]) {
        let text = String(decoding: body, as: UTF8.self)
        requests.append((method, path, headers, text))
        let (status, reply) = answer(path, text)
        if status == 0 { throw .unreachable(reply) }
        return (status, Array(reply.utf8))
    }
}

@Suite struct MilvusClientTests {
    static let v1Describe = #"{"code":200,"data":{"collectionName":"c","enableDynamicField":true,"fields":[{"autoId":true,"name":"id","primaryKey":true,"type":"Int64"},{"autoId":false,"name":"vector","primaryKey":false,"type":"FloatVector(3)"}],"indexes":[{"fieldName":"vector","indexName":"vector_idx","metricType":"COSINE"}],"load":"LoadStateLoaded","shardsNum":1}}"#

    @Test func v1DetectCreateWriteCount() throws {
        var exists = false
        let server = ScriptedMilvus { path, _ in
            switch path {
            case "/v2/vectordb/collections/list": return (404, "404 page not found")
            case "/v1/vector/collections/describe?collectionName=c":
                return exists ? (200, Self.v1Describe) : (200, #"{"code":100,"message":"can't find collection"}"#)
            case "/v1/vector/collections/create": exists = true; return (200, #"{"code":200,"data":{}}"#)
            case "/v1/vector/query": return (200, #"{"code":200,"data":[{"count(*)":"2"}]}"#)
            default: return (200, #"{"code":200,"data":{}}"#)
            }
        }
        let client = MilvusClient(url: try MilvusURL(parsing: "milvus://h/c"), transport: server, token: "root:Milvus")
        #expect(try client.detectAPI() == .v1)
        #expect(try client.describe() == nil)
        let schema = try client.create(.init(dimension: 3, metric: "cosine", hnswM: 32, efConstruction: 100))
        #expect(schema == MilvusSchema(primaryKey: .autoID(field: "id"), dimension: 3, metric: "COSINE", dynamicFields: true))
        try client.write([MilvusRecord(key: "a", vector: [1, 2, 3])], schema: schema, replace: false)
        try client.write([MilvusRecord(key: "b", vector: [1, 2, 3], metadata: #"{"x":1}"#)], schema: schema, replace: true)
        #expect(try client.count(schema: schema) == 2)
        let paths = server.requests.map(\.path)
        #expect(paths == ["/v2/vectordb/collections/list", "/v1/vector/collections/describe?collectionName=c",
                          "/v1/vector/collections/create", "/v1/vector/collections/describe?collectionName=c",
                          "/v1/vector/insert", "/v1/vector/delete", "/v1/vector/insert", "/v1/vector/query"])
        #expect(server.requests[2].body == #"{"collectionName":"c","dimension":3,"metricType":"COSINE","primaryField":"id","vectorField":"vector"}"#)
        #expect(server.requests[4].body == #"{"collectionName":"c","data":[{"key":"a","vector":[1.0,2.0,3.0]}]}"#)
        #expect(server.requests[5].body == #"{"collectionName":"c","filter":"key in [\"b\"]"}"#)
        #expect(server.requests[7].body == #"{"collectionName":"c","filter":"id >= 0","outputFields":["count(*)"],"limit":0}"#)
        #expect(server.requests.allSatisfy { $0.headers.contains { $0 == ("Authorization", "Bearer root:Milvus") } })
    }

    @Test func v2CreateAndUpsert() throws {
        let describe = #"{"code":0,"data":{"collectionName":"c","autoId":false,"enableDynamicField":true,"fields":[{"name":"key","type":"VarChar","primaryKey":true,"autoId":false,"params":[{"key":"max_length","value":"65535"}]},{"name":"vector","type":"FloatVector","primaryKey":false,"params":[{"key":"dim","value":"2"}]}],"indexes":[{"fieldName":"vector","indexName":"vector","metricType":"L2"}]}}"#
        let server = ScriptedMilvus { path, _ in
            path == "/v2/vectordb/collections/describe" ? (200, describe) : (200, #"{"code":0,"data":{}}"#)
        }
        let client = MilvusClient(url: try MilvusURL(parsing: "milvus://h/db/c"), transport: server)
        #expect(try client.detectAPI() == .v2)
        let schema = try client.create(.init(dimension: 2, metric: "l2", hnswM: 24, efConstruction: 300))
        #expect(schema.primaryKey == .key && schema.dimension == 2 && schema.metric == "L2")
        try client.write([MilvusRecord(key: "a", vector: [1, 2])], schema: schema, replace: true)
        try client.delete(keys: ["a"], schema: schema)
        let create = try JSONValue.parse(server.requests[1].body)
        #expect(create["dbName"]?.string == "db")
        #expect(JSONWriter.compact(create["schema"]!) == #"{"autoID":false,"enableDynamicField":true,"fields":[{"fieldName":"key","dataType":"VarChar","isPrimary":true,"elementTypeParams":{"max_length":"65535"}},{"fieldName":"vector","dataType":"FloatVector","elementTypeParams":{"dim":"2"}}]}"#)
        #expect(JSONWriter.compact(create["indexParams"]!) == #"[{"fieldName":"vector","indexName":"vector","metricType":"L2","indexType":"HNSW","params":{"M":24,"efConstruction":300}}]"#)
        #expect(server.requests.map(\.path).suffix(2) == ["/v2/vectordb/entities/upsert", "/v2/vectordb/entities/delete"])
        #expect(server.requests.last?.body == #"{"collectionName":"c","dbName":"db","filter":"key in [\"a\"]"}"#)
    }

    /// A lost answer: the retry deletes the batch's keys before inserting again.
    @Test func retriedInsertReplaces() throws {
        var failures = 1
        let server = ScriptedMilvus { path, _ in
            if path == "/v1/vector/insert" && failures > 0 { failures -= 1; return (0, "connection reset") }
            return (200, #"{"code":200,"data":{}}"#)
        }
        let client = MilvusClient(url: try MilvusURL(parsing: "milvus://h/c"), transport: server,
                                  retry: MilvusRetryPolicy(maxAttempts: 3, initialDelay: 0.001))
        let schema = MilvusSchema(primaryKey: .autoID(field: "id"), dimension: 1, metric: nil, dynamicFields: true)
        var retries = 0
        client.onRetry = { _, _ in retries += 1 }
        try client.write([MilvusRecord(key: "a", vector: [1])], schema: schema, replace: false)
        #expect(server.requests.map(\.path) == ["/v1/vector/insert", "/v1/vector/delete", "/v1/vector/insert"])
        #expect(retries == 1)
    }

    @Test func errorsAreNamed() throws {
        let url = try MilvusURL(parsing: "milvus://h/c")
        let auth = MilvusClient(url: url, transport: ScriptedMilvus { _, _ in (401, #"{"code":1800,"message":"user hasn't authenticated"}"#) })
        #expect(throws: MilvusError.auth("HTTP 401 for /v2/vectordb/collections/list: {\"code\":1800,\"message\":\"user hasn't authenticated\"}")) {
            try auth.detectAPI()
        }
        let down = MilvusClient(url: url, transport: ScriptedMilvus { _, _ in (0, "connection refused") }, retry: .none)
        #expect(throws: MilvusError.unreachable("connection refused")) { try down.detectAPI() }
        let fixed = MilvusClient(url: url, transport: ScriptedMilvus { _, _ in (200, #"{"code":200,"data":{"enableDynamicField":false,"fields":[{"name":"id","primaryKey":true,"type":"Int64"},{"name":"vector","type":"FloatVector(3)"}]}}"#) })
        do { _ = try fixed.describe(); Issue.record("described") } catch {
            #expect(error.description.contains("has no dynamic fields"))
        }
        let wrongKey = MilvusClient(url: url, transport: ScriptedMilvus { _, _ in (200, #"{"code":200,"data":{"enableDynamicField":true,"fields":[{"name":"pk","primaryKey":true,"type":"VarChar"},{"name":"vector","type":"FloatVector(3)"}]}}"#) })
        do { _ = try wrongKey.describe(); Issue.record("described") } catch {
            #expect(error.description.contains("primary key 'pk' of type VarChar"))
        }
        let overloaded = MilvusClient(url: url, transport: ScriptedMilvus { _, _ in (200, #"{"code":8,"message":"rate limit exceeded"}"#) }, retry: .none)
        do { try overloaded.detectAPI(.v1); _ = try overloaded.describe(); Issue.record("described") } catch {
            #expect(error.isTransient)
        }
    }
}
