import Testing
@testable import EmbedWire

/// Sample values for every message of proto/embedd.proto, shared with the Python cross-check.
enum Samples {
    static let model = ModelInfo(
        name: "all-MiniLM-L6-v2", plugin: "text", state: .ready, error: "", modelDir: "/m/all-MiniLM-L6-v2",
        version: "1.0", embeddingSpace: "minilm-l6-v2", modalities: ["text"], mimeTypes: ["text/plain", ""],
        dimension: 384, metric: "cosine", normalized: true, maxTokens: 256, maxBatch: 64, preferredBatch: 32,
        generation: 3, inFlight: 2, isDefault: true, maxInputBytes: 1 << 33, pluginCalls: 77, inputsEmbedded: 1 << 35)
    static let failedModel = ModelInfo(name: "all-mpnet-base-v2", plugin: "text", state: .failed,
                                       error: "model directory not found: ünïcödé ✓")
    static let plugin = PluginInfo(name: "text", version: "0.1.0", path: "/usr/lib/embedd/plugins/libembedd-text.so",
                                   abiVersion: "1.0", description: "BERT/MPNet sentence encoders")

    /// (type name in the .proto, encoded bytes, a decoder that re-encodes).
    static let all: [(String, [UInt8], @Sendable ([UInt8]) throws -> [UInt8])] = [
        entry("Hello", Hello(major: 1, minor: 0, client: "embedctl/0.1")),
        entry("HelloReply", HelloReply(major: 1, minor: 0, server: "embedd/0.1.0", maxFrameBytes: 16 << 20,
                                       maxCallsInFlight: 64, idleTimeoutMs: 300_000, defaultDeadlineMs: 60_000)),
        entry("RpcStatus", RpcStatus(code: 7, message: "admin methods need uid 0 or group embedd-admin")),
        entry("HealthRequest", HealthRequest()),
        entry("HealthResponse", HealthResponse(status: .serving, message: "ok")),
        entry("HealthResponse", HealthResponse(status: ServingStatus(rawValue: 77))),
        entry("ModelInfo", model),
        entry("ModelInfo", failedModel),
        entry("PluginInfo", plugin),
        entry("StatusRequest", StatusRequest()),
        entry("StatusResponse", StatusResponse(
            version: "0.1.0", pid: 4242, uptimeMs: 123_456_789_012, state: "serving", socketPath: "/run/embedd/embedd.sock",
            configPath: "/etc/embedd/embedd.yaml", connections: 3, callsTotal: 1 << 40, callsInFlight: 1, reloads: 2,
            models: [model, failedModel], plugins: [plugin], dataDir: "/var/lib/embedd", pluginsDir: "/usr/lib/embedd/plugins",
            modelsDir: "/var/lib/embedd/models", lastReloadError: "x", protocolMajor: 1, protocolMinor: 0)),
        entry("ListModelsRequest", ListModelsRequest()),
        entry("ListModelsResponse", ListModelsResponse(models: [model, failedModel])),
        entry("ListPluginsRequest", ListPluginsRequest()),
        entry("ListPluginsResponse", ListPluginsResponse(plugins: [plugin, PluginInfo(name: "fixture")])),
        entry("Media", Media(data: [0x89, 0x50, 0x4E, 0x47, 0, 255], mimeType: "image/png")),
        entry("Pixels", Pixels(rgb8: [1, 2, 3, 4, 5, 6], width: 2, height: 1)),
        entry("Audio", Audio(samples: [0, 0.25, -1, 1e-30, .greatestFiniteMagnitude], sampleRate: 16000)),
        entry("Input", Input.text("")),
        entry("Input", Input(.media(Media(data: [1, 2], mimeType: "audio/wav")))),
        entry("EmbedRequest", EmbedRequest(model: "all-MiniLM-L6-v2", inputs: [
            .text("hello world"), .text(""), .text("naïve café 日本語 🚀"),
            Input(.media(Media(data: Array(0...255), mimeType: "image/png"))),
            Input(.pixels(Pixels(rgb8: [9, 9, 9], width: 1, height: 1))),
            Input(.audio(Audio(samples: [0.5, -0.5], sampleRate: 8000))),
        ])),
        entry("Vector", Vector(values: [1, -1, 0, 3.14159, -0.0, .leastNonzeroMagnitude])),
        entry("EmbedResponse", EmbedResponse(model: "m", dim: 3, vectors: [Vector(values: [1, 2, 3]), Vector(values: [0, 0, 0])],
                                             modelVersion: "v2", generation: 9)),
        entry("LoadPluginRequest", LoadPluginRequest(path: "libembedd-fixture.so")),
        entry("LoadPluginResponse", LoadPluginResponse(plugin: plugin)),
        entry("ReloadPluginRequest", ReloadPluginRequest(plugin: "text", path: "/opt/new/libembedd-text.so", model: "m")),
        entry("ReloadPluginResponse", ReloadPluginResponse(models: [model])),
        entry("UnloadModelRequest", UnloadModelRequest(name: "all-mpnet-base-v2")),
        entry("UnloadModelResponse", UnloadModelResponse(model: failedModel)),
        entry("LoadModelRequest", LoadModelRequest(name: "fx", plugin: "fixture", modelDir: "fx",
                                                   options: ["dimension": "8", "seed": "42", "": "empty key"])),
        entry("LoadModelResponse", LoadModelResponse(model: model)),
    ]

    static func entry<M: ProtoMessage>(_ name: String, _ m: M) -> (String, [UInt8], @Sendable ([UInt8]) throws -> [UInt8]) {
        (name, m.serializedBytes(), { bytes in try M(serializedBytes: bytes).serializedBytes() })
    }
}

@Suite struct MessageRoundTripTests {
    @Test func everyMessageRoundTrips() throws {
        for (name, bytes, reencode) in Samples.all {
            #expect(try reencode(bytes) == bytes, "\(name) did not round-trip")
        }
    }

    @Test func decodedValuesMatch() throws {
        let status = try StatusResponse(serializedBytes: Samples.all[10].1)
        #expect(status.models == [Samples.model, Samples.failedModel])
        #expect(status.callsTotal == 1 << 40)
        #expect(status.models[1].error.hasSuffix("✓"))
        let req = LoadModelRequest(name: "fx", options: ["a": "1", "b": "2"])
        #expect(try LoadModelRequest(serializedBytes: req.serializedBytes()) == req)
        let audio = try Audio(serializedBytes: Audio(samples: [.infinity, -.infinity]).serializedBytes())
        #expect(audio.samples == [.infinity, -.infinity])
    }

    @Test func defaultsAreNotEncoded() {
        #expect(Hello().serializedBytes().isEmpty)
        #expect(ModelInfo().serializedBytes().isEmpty)
        #expect(EmbedResponse().serializedBytes().isEmpty)
        // A oneof member is present even at its default value.
        #expect(Input.text("").serializedBytes() == [0x0A, 0x00])
        // Known encoding: Hello{major:1, client:"a"}.
        #expect(Hello(major: 1, client: "a").serializedBytes() == [0x08, 0x01, 0x1A, 0x01, 0x61])
    }

    @Test func embedRequestEncodingIsByteExact() {
        let req = EmbedRequest(model: "m", inputs: [.text("hi")])
        // 0a 01 6d            field 1 "m"
        // 12 04 0a 02 68 69   field 2 Input{ text = "hi" }
        #expect(req.serializedBytes() == [0x0A, 0x01, 0x6D, 0x12, 0x04, 0x0A, 0x02, 0x68, 0x69])
    }
}
