import EmbedWire

/// One empty and at least one rich value of every message of proto/embedd.proto, built through
/// the public API only. `GoldenBytesTests` pins their encodings to the bytes the hand-written
/// codec produced before the messages were generated from the .proto (tools/gen-messages).
///
/// "Rich" means every field set, with the values that tell encoders apart: the largest and
/// smallest integers, negative int32 and enum values, -0.0 and +0.0 floats, empty strings in
/// repeated and oneof fields (written) next to empty singular ones (skipped), empty embedded
/// messages (written), map entries with empty keys and values, unknown enum values, non-ASCII.
enum GoldenSamples {
    static let text = "naïve café 日本語 🚀"
    static let floats: [Float] = [0, -0.0, 1, -2.5, .leastNonzeroMagnitude, .greatestFiniteMagnitude, .infinity, -.infinity]
    static let model = ModelInfo(
        name: "all-MiniLM-L6-v2", plugin: "text", state: .ready, error: "e", modelDir: "/m/all-MiniLM-L6-v2",
        version: "1.0", embeddingSpace: "minilm-l6-v2", modalities: ["text", "", "image"], mimeTypes: ["text/plain", ""],
        dimension: .max, metric: "cosine", normalized: true, maxTokens: 256, maxBatch: 64, preferredBatch: 32,
        generation: .max, inFlight: 2, isDefault: true, maxInputBytes: 1 << 33, pluginCalls: 77, inputsEmbedded: 1 << 35)
    static let plugin = PluginInfo(name: "text", version: "0.1.0", path: "/usr/lib/embedd/plugins/libembedd-text.so",
                                   abiVersion: "1.0", description: text)
    static let media = Media(data: Array(0...255), mimeType: "image/png")
    static let pixels = Pixels(rgb8: [1, 2, 3, 4, 5, 6], width: 2, height: 1)
    static let audio = Audio(samples: floats, sampleRate: 16000)
    static let file = FileRef(index: 7, mimeType: "text/plain")
    static let inputs: [Input] = [
        Input(), .text(""), .text(text), Input(.media(media)), Input(.media(Media())), Input(.pixels(pixels)),
        Input(.audio(audio)), Input(.audio(Audio())), Input(.file(file)), Input(.file(FileRef())),
    ]
    static let vector = Vector(values: floats)
    static let acl = CollectionAcl(ownerUid: .max, readerUids: [0, 1, 300, 70_000, .max], readerGids: [], writerUids: [0xFFFF_FFFE],
                                   writerGids: [100, 27], restrictRead: true)
    static let stats = CollectionStats(count: 1000, deleted: 3, unindexed: 1, nodes: 1003, maxLevel: -1, walBytes: .max,
                                       snapshotBytes: 5, memoryBytes: 1_600_000, lastSequence: 77, checkpointSequence: 70)
    static let info = CollectionInfo(name: "docs", model: "all-MiniLM-L6-v2", embeddingSpace: "minilm-l6-v2", dimension: 384,
                                     metric: "cosine", storage: "f32", count: 1000, acl: acl, createdUnixMs: 1_764_000_000_000,
                                     hnswM: 16, hnswEfConstruction: 200, hnswEf: 100, stats: stats, canRead: true, canWrite: true,
                                     error: "model 'x' now has space 'y'")
    static let emptyInfo = CollectionInfo(acl: CollectionAcl(), stats: CollectionStats())
    static let items: [UpsertItem] = [
        UpsertItem(), UpsertItem.text("k1", "hello", metadata: #"{"lang":"en"}"#), UpsertItem.vector("k2", [1, -2, 0.5]),
        UpsertItem(key: "k3", value: .input(Input(.file(file)))), UpsertItem(key: "", value: .input(Input())),
        UpsertItem(key: "k4", value: .vector(Vector()), metadata: "{}"),
    ]
    static let queries: [SearchQuery] = [
        SearchQuery(), SearchQuery.text("where is the cat"), SearchQuery.vector([0.25, -1]), SearchQuery.vector([]),
        SearchQuery(.input(Input())),
    ]
    static let hits = [SearchHit(key: "a", score: -0.5, metadata: #"{"x":1}"#), SearchHit(key: "b", score: -0.0), SearchHit()]

    /// (name in the .proto, message): every message appears at least twice, empty first.
    static let all: [(String, any ProtoMessage)] = [
        ("Hello", Hello()), ("Hello", Hello(major: 1, minor: .max, client: "embedctl/0.1")),
        ("HelloReply", HelloReply()),
        ("HelloReply", HelloReply(major: 1, minor: 1, server: "embedd/0.1.0", maxFrameBytes: 16 << 20, maxCallsInFlight: 64,
                                  idleTimeoutMs: 300_000, defaultDeadlineMs: .max)),
        ("RpcStatus", RpcStatus()), ("RpcStatus", RpcStatus(code: 7, message: text)),
        ("HealthRequest", HealthRequest()), ("HealthRequest", HealthRequest()),
        ("HealthResponse", HealthResponse()), ("HealthResponse", HealthResponse(status: .draining, message: "bye")),
        ("HealthResponse", HealthResponse(status: ServingStatus(rawValue: -3))),
        ("HealthResponse", HealthResponse(status: ServingStatus(rawValue: 77))),
        ("ModelInfo", ModelInfo()), ("ModelInfo", model), ("ModelInfo", ModelInfo(state: ModelState(rawValue: -1))),
        ("PluginInfo", PluginInfo()), ("PluginInfo", plugin),
        ("StatusRequest", StatusRequest()), ("StatusRequest", StatusRequest()),
        ("StatusResponse", StatusResponse()),
        ("StatusResponse", StatusResponse(
            version: "0.1.0", pid: 4242, uptimeMs: 123_456_789_012, state: "serving", socketPath: "/run/embedd/embedd.sock",
            configPath: "/etc/embedd/embedd.yaml", connections: 3, callsTotal: .max, callsInFlight: 1, reloads: 2,
            models: [model, ModelInfo()], plugins: [plugin, PluginInfo()], dataDir: "/var/lib/embedd",
            pluginsDir: "/usr/lib/embedd/plugins", modelsDir: "/var/lib/embedd/models", lastReloadError: "x",
            protocolMajor: 1, protocolMinor: 1)),
        ("ListModelsRequest", ListModelsRequest()), ("ListModelsRequest", ListModelsRequest()),
        ("ListModelsResponse", ListModelsResponse()), ("ListModelsResponse", ListModelsResponse(models: [model, ModelInfo()])),
        ("ListPluginsRequest", ListPluginsRequest()), ("ListPluginsRequest", ListPluginsRequest()),
        ("ListPluginsResponse", ListPluginsResponse()), ("ListPluginsResponse", ListPluginsResponse(plugins: [PluginInfo(), plugin])),
        ("Media", Media()), ("Media", media),
        ("Pixels", Pixels()), ("Pixels", pixels),
        ("Audio", Audio()), ("Audio", audio),
        ("FileRef", FileRef()), ("FileRef", file),
    ] + inputs.map { ("Input", $0) as (String, any ProtoMessage) } + [
        ("EmbedRequest", EmbedRequest()), ("EmbedRequest", EmbedRequest(model: "all-MiniLM-L6-v2", inputs: inputs)),
        ("Vector", Vector()), ("Vector", vector),
        ("EmbedResponse", EmbedResponse()),
        ("EmbedResponse", EmbedResponse(model: "m", dim: 8, vectors: [vector, Vector(), Vector(values: [1, 2, 3])],
                                        modelVersion: "v2", generation: .max)),
        ("LoadPluginRequest", LoadPluginRequest()), ("LoadPluginRequest", LoadPluginRequest(path: "libembedd-fixture.so")),
        ("LoadPluginResponse", LoadPluginResponse()), ("LoadPluginResponse", LoadPluginResponse(plugin: plugin)),
        ("LoadPluginResponse", LoadPluginResponse(plugin: PluginInfo())),
        ("ReloadPluginRequest", ReloadPluginRequest()),
        ("ReloadPluginRequest", ReloadPluginRequest(plugin: "text", path: "/opt/new/libembedd-text.so", model: "m")),
        ("ReloadPluginResponse", ReloadPluginResponse()), ("ReloadPluginResponse", ReloadPluginResponse(models: [model, ModelInfo()])),
        ("UnloadModelRequest", UnloadModelRequest()), ("UnloadModelRequest", UnloadModelRequest(name: "all-mpnet-base-v2")),
        ("UnloadModelResponse", UnloadModelResponse()), ("UnloadModelResponse", UnloadModelResponse(model: model)),
        ("UnloadModelResponse", UnloadModelResponse(model: ModelInfo())),
        ("LoadModelRequest", LoadModelRequest()),
        ("LoadModelRequest", LoadModelRequest(name: "fx", plugin: "fixture", modelDir: "fx",
                                              options: ["dimension": "8", "seed": "42", "": "empty key", "empty": "", "ü": text])),
        ("LoadModelResponse", LoadModelResponse()), ("LoadModelResponse", LoadModelResponse(model: model)),
        ("CollectionAcl", CollectionAcl()), ("CollectionAcl", acl),
        ("CollectionStats", CollectionStats()), ("CollectionStats", stats),
        ("CollectionStats", CollectionStats(maxLevel: .min)), ("CollectionStats", CollectionStats(maxLevel: .max)),
        ("CollectionInfo", CollectionInfo()), ("CollectionInfo", info), ("CollectionInfo", emptyInfo),
        ("CreateCollectionRequest", CreateCollectionRequest()),
        ("CreateCollectionRequest", CreateCollectionRequest(name: "docs", model: "all-MiniLM-L6-v2", dimension: 384, metric: "ip",
                                                            storage: "f16", hnswM: 32, hnswEfConstruction: 400, hnswEf: 64,
                                                            acl: acl, existOk: true)),
        ("CreateCollectionRequest", CreateCollectionRequest(name: "raw", acl: CollectionAcl())),
        ("CreateCollectionResponse", CreateCollectionResponse()), ("CreateCollectionResponse", CreateCollectionResponse(collection: info)),
        ("CreateCollectionResponse", CreateCollectionResponse(collection: CollectionInfo())),
        ("DropCollectionRequest", DropCollectionRequest()), ("DropCollectionRequest", DropCollectionRequest(name: "docs")),
        ("DropCollectionResponse", DropCollectionResponse()), ("DropCollectionResponse", DropCollectionResponse()),
        ("ListCollectionsRequest", ListCollectionsRequest()), ("ListCollectionsRequest", ListCollectionsRequest()),
        ("ListCollectionsResponse", ListCollectionsResponse()),
        ("ListCollectionsResponse", ListCollectionsResponse(collections: [info, CollectionInfo(), emptyInfo])),
        ("DescribeCollectionRequest", DescribeCollectionRequest()), ("DescribeCollectionRequest", DescribeCollectionRequest(name: "d")),
        ("DescribeCollectionResponse", DescribeCollectionResponse()),
        ("DescribeCollectionResponse", DescribeCollectionResponse(collection: info)),
        ("OptimizeCollectionRequest", OptimizeCollectionRequest()), ("OptimizeCollectionRequest", OptimizeCollectionRequest(name: "o")),
        ("OptimizeCollectionResponse", OptimizeCollectionResponse()),
        ("OptimizeCollectionResponse", OptimizeCollectionResponse(collection: info)),
    ] + items.map { ("UpsertItem", $0) as (String, any ProtoMessage) } + [
        ("UpsertRequest", UpsertRequest()),
        ("UpsertRequest", UpsertRequest(collection: "docs", items: items, skipExisting: true, model: "all-MiniLM-L6-v2")),
        ("UpsertResult", UpsertResult()), ("UpsertResult", UpsertResult(key: "a", outcome: .stored)),
        ("UpsertResult", UpsertResult(key: "b", outcome: .failed, error: "input rejected")),
        ("UpsertResult", UpsertResult(key: "c", outcome: UpsertOutcome(rawValue: -9))),
        ("UpsertResponse", UpsertResponse()),
        ("UpsertResponse", UpsertResponse(results: [UpsertResult(key: "a", outcome: .skippedExisting), UpsertResult()],
                                          stored: 1, skipped: 2, failed: .max)),
    ] + queries.map { ("SearchQuery", $0) as (String, any ProtoMessage) } + [
        ("SearchRequest", SearchRequest()),
        ("SearchRequest", SearchRequest(collection: "docs", queries: queries, k: 5, ef: 200,
                                        filter: #"{"lang":"en","year":{"$in":[2023,2024]}}"#, model: "m")),
        ("SearchHit", SearchHit()), ("SearchHit", hits[0]), ("SearchHit", hits[1]),
        ("SearchHit", SearchHit(key: "c", score: .greatestFiniteMagnitude, metadata: "")),
        ("SearchResult", SearchResult()), ("SearchResult", SearchResult(hits: hits)),
        ("SearchResponse", SearchResponse()),
        ("SearchResponse", SearchResponse(results: [SearchResult(hits: hits), SearchResult()], metric: "l2")),
        ("GetRequest", GetRequest()), ("GetRequest", GetRequest(collection: "docs", key: text)),
        ("GetResponse", GetResponse()), ("GetResponse", GetResponse(key: "a", vector: vector, metadata: "{}")),
        ("GetResponse", GetResponse(vector: Vector())),
        ("DeleteRequest", DeleteRequest()), ("DeleteRequest", DeleteRequest(collection: "docs", keys: ["a", "", "ü"])),
        ("DeleteResponse", DeleteResponse()), ("DeleteResponse", DeleteResponse(deleted: .max)),
        ("CountRequest", CountRequest()), ("CountRequest", CountRequest(collection: "docs")),
        ("CountResponse", CountResponse()), ("CountResponse", CountResponse(count: 1 << 40)),
        ("StatsRequest", StatsRequest()), ("StatsRequest", StatsRequest(collection: "docs")),
        ("StatsResponse", StatsResponse()), ("StatsResponse", StatsResponse(collections: [info, emptyInfo])),
        // Protocol 1.2 (issue 26): names of passed files, documents, Scan.
        ("FileRef", FileRef(index: 1, mimeType: "image/jpeg", name: "pics/ü.jpg")),
        ("Media", Media(data: [1, 2], mimeType: "image/png", name: "a.png")),
        ("UpsertItem", UpsertItem(key: "d", value: .vector(Vector(values: [1])), document: #"{"text":"hi"}"#)),
        ("SearchHit", SearchHit(key: "a", score: 1, document: #"{"text":"a"}"#)),
        ("GetResponse", GetResponse(key: "a", document: #"{"name":"x.jpg"}"#)),
        ("CreateCollectionRequest", CreateCollectionRequest(name: "n", noDocuments: true)),
        ("CollectionInfo", CollectionInfo(name: "n", documents: true)),
        ("ScanRequest", ScanRequest()),
        ("ScanRequest", ScanRequest(collection: "docs", after: "k9", limit: 100_000, filter: #"{"a":1}"#, vectors: true)),
        ("ScanRecord", ScanRecord()),
        ("ScanRecord", ScanRecord(key: "k", vector: Vector(values: [0.5]), metadata: "{}", document: #"{"text":"t"}"#)),
        ("ScanResponse", ScanResponse()),
        ("ScanResponse", ScanResponse(records: [ScanRecord(key: "a"), ScanRecord()], nextAfter: "a")),
        ("ChangesRequest", ChangesRequest()),
        ("ChangesRequest", ChangesRequest(collection: "docs", afterSequence: 300, limit: 1000)),
        ("Change", Change(sequence: 7, records: [ScanRecord(key: "k", vector: Vector(values: [0.5]), metadata: "{}")])),
        ("Change", Change(sequence: 8, delete: true, keys: ["a", "b"])),
        ("ChangesResponse", ChangesResponse(changes: [Change(sequence: 1)], nextSequence: 1, lastSequence: 9)),
        ("MirrorInfo", MirrorInfo(target: "milvus://h/c", prefix: "a/", sequence: 5, lastSequence: 9, lagRecords: 4, lagSeconds: 1.5, stale: true, registeredUnixMs: 1, ackedUnixMs: 2)),
        ("SetMirrorRequest", SetMirrorRequest(collection: "c", target: "t", prefix: "p", action: .remove)),
        ("AckMirrorRequest", AckMirrorRequest(collection: "c", target: "t", sequence: 42)),
        ("CollectionInfo", CollectionInfo(name: "n", mirrors: [MirrorInfo(target: "t")], mirrorLagRecords: 3, mirrorLagSeconds: 0.25, mirrorRetainedBytes: 4096)),
        // Protocol 1.3 (issue 23): Metrics.
        ("MetricsRequest", MetricsRequest()),
        ("MetricsResponse", MetricsResponse()),
        ("MetricsResponse", MetricsResponse(text: "# TYPE a counter\na{l=\"\\\"ü\"} 1\n")),
    ]
}
