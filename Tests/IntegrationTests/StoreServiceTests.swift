import EmbedClient
import EmbedSys
import EmbedWire
import Foundation
import Synchronization
import Testing

/// The store methods (ids 32…41) against a real daemon with the C fixture plugin, through
/// EmbedClient: every method's happy path and errors, spaces and dimensions, files passed as
/// descriptors, and restart persistence. (embedctl's own tests drive the same methods from the
/// command line.)
@Suite(.serialized) struct StoreServiceTests {
    static func status(of body: () throws -> Void) -> (StatusCode?, String) { callStatus(body) }

    static func model(_ c: EmbedClient, _ name: String) throws -> EmbedWire.ModelInfo {
        let models = try c.call(.listModels, ListModelsRequest(), as: ListModelsResponse.self).models
        return try #require(models.first { $0.name == name })
    }

    /// Sizes come from the client: width × height × 3 must be computed without trapping on
    /// overflow (it once crashed the daemon on the event loop), in Embed and in the store paths.
    @Test func hugePixelSizesAreRefusedNotTrapped() throws {
        let d = try TestDaemon()
        let c = try d.client()
        _ = try c.createCollection("img", model: "fx")
        for (w, h) in [(UInt32.max, UInt32.max), (UInt32.max, 3), (1 << 31, 1 << 31), (0, 5)] {
            let huge = Input(.pixels(Pixels(rgb8: [], width: w, height: h)))
            let e = Self.status { _ = try c.embed(model: "fx", inputs: [huge]) }
            #expect(e.0 == .invalidArgument && e.1.contains("pixels"), "\(w)×\(h): \(e)")
            // Upsert answers per item: the call is OK, the item failed naming the problem.
            let u = try c.upsert("img", [UpsertItem(key: "p", value: .input(huge))])
            #expect(u.failed == 1 && u.results.first?.error.contains("pixels") == true, "\(w)×\(h): \(u)")
            let s = Self.status { _ = try c.search("img", [SearchQuery(.input(huge))]) }
            #expect(s.0 == .invalidArgument && s.1.contains("pixels"), "\(w)×\(h): \(s)")
        }
        #expect(try c.call(.health, HealthRequest(), as: HealthResponse.self).status == .serving)
        d.stop()
    }

    /// Keys are 1…1024 bytes of UTF-8 without NUL; a bad key fails its item alone.
    @Test func badKeysFailTheirItemAlone() throws {
        let d = try TestDaemon()
        let c = try d.client()
        _ = try c.createCollection("keys", model: "fx")
        let r = try c.upsert("keys", [.text("", "empty key"), .text(String(repeating: "k", count: 1025), "long key"),
                                      .text("a\u{0}b", "a NUL inside"), .text("fine", "a good one")])
        #expect(r.results.map(\.outcome) == [.failed, .failed, .failed, .stored])
        #expect(r.results[0].error.contains("1…1024 bytes") && r.results[1].error.contains("1…1024 bytes"))
        #expect(r.results[2].error.contains("NUL"), "\(r.results[2].error)")
        #expect(try c.count("keys") == 1)
    }

    @Test func collectionLifecycleAndRecords() throws {
        let d = try TestDaemon()
        let c = try d.client()
        let info = try c.createCollection("docs", model: "fx")
        #expect(info.model == "fx" && info.dimension == 16 && info.metric == "cosine" && info.embeddingSpace == "fixture/trigram")
        #expect(info.acl?.ownerUid == getuid() && info.canRead && info.canWrite && info.createdUnixMs > 1_700_000_000_000)
        // Duplicates, exist_ok, bad requests.
        #expect(Self.status { _ = try c.createCollection("docs", model: "fx") }.0 == .alreadyExists)
        #expect(try c.createCollection("docs", model: "fx", existOK: true).name == "docs")
        #expect(Self.status { _ = try c.createCollection("docs", dimension: 16, existOK: true) }.0 == .alreadyExists)
        #expect(Self.status { _ = try c.createCollection("bad/name", model: "fx") }.0 == .invalidArgument)
        let unknown = Self.status { _ = try c.createCollection("x", model: "nope") }
        #expect(unknown.0 == .notFound && unknown.1.contains("nope"))
        #expect(Self.status { _ = try c.createCollection(CreateCollectionRequest(name: "x")) }.0 == .invalidArgument)
        let metric = Self.status { _ = try c.createCollection(CreateCollectionRequest(name: "x", model: "fx", metric: "l2")) }
        #expect(metric.0 == .invalidArgument && metric.1.contains("cosine"))
        let storage = Self.status { _ = try c.createCollection(CreateCollectionRequest(name: "x", dimension: 4, storage: "f64")) }
        #expect(storage.0 == .invalidArgument && storage.1.contains("use f32, f16 or int8"))

        let texts = ["the cat sat on the mat", "a quick brown fox jumps", "stock markets fell sharply today",
                     "rain is expected tomorrow morning", "the dog chased the ball in the park"]
        var items: [UpsertItem] = []
        for (i, t) in texts.enumerated() {
            items.append(.text("k\(i)", t, metadata: #"{"n":\#(i),"lang":"\#(i % 2 == 0 ? "en" : "fr")"}"#))
        }
        let up = try c.upsert("docs", items)
        #expect(up.stored == 5 && up.failed == 0 && up.results.map(\.outcome) == Array(repeating: .stored, count: 5))
        #expect(try c.count("docs") == 5)

        // Get: the stored vector is the model's vector for that text.
        let got = try #require(try c.get("docs", key: "k0"))
        let alone = try c.embed(model: "fx", inputs: [.text(texts[0])]).vectors[0].values
        #expect(got.vector?.values == alone && got.metadata == #"{"n":0,"lang":"en"}"#)
        #expect(try c.get("docs", key: "absent") == nil)
        let missing = Self.status { _ = try c.call(.get, GetRequest(collection: "docs", key: "absent"), as: GetResponse.self) }
        #expect(missing.0 == .notFound && missing.1.contains("absent"))

        // Search by text (similar text first), by vector, several queries, filters.
        let byText = try c.search("docs", text: "the cat sat on a mat", k: 3)
        #expect(byText.first?.key == "k0" && byText.count == 3)
        #expect(byText.first?.metadata == #"{"n":0,"lang":"en"}"#)
        let multi = try c.search("docs", [.text("quick brown fox"), .vector(alone)], k: 2)
        #expect(multi.results.count == 2 && multi.metric == "cosine")
        #expect(multi.results[0].hits.first?.key == "k1" && multi.results[1].hits.first?.key == "k0")
        #expect(abs((multi.results[1].hits.first?.score ?? 0) - 1) < 1e-4)
        let fr = try c.search("docs", text: "the cat sat on a mat", k: 5, filter: #"{"lang": "fr"}"#)
        #expect(Set(fr.map(\.key)) == ["k1", "k3"])
        let inList = try c.search("docs", text: "anything", k: 5, filter: #"{"n": {"$in": [2, 4]}}"#)
        #expect(Set(inList.map(\.key)) == ["k2", "k4"])
        #expect(Set(try c.search("docs", text: "x", k: 5, filter: #"{"n": [0, 3]}"#).map(\.key)) == ["k0", "k3"])
        #expect(Set(try c.search("docs", text: "x", k: 5, filter: #"{"n": {"$gt": 1, "$lte": 3}, "lang": {"$ne": "en"}}"#).map(\.key)) == ["k3"])
        let badFilter = Self.status { _ = try c.search("docs", text: "x", filter: #"{"n": {"$regex": 1}}"#) }
        #expect(badFilter.0 == .invalidArgument && badFilter.1.contains("unknown operator '$regex'") && badFilter.1.hasSuffix("at byte 7"))
        #expect(Self.status { _ = try c.search("docs", text: "x", filter: "[1]") }.0 == .invalidArgument)
        #expect(Self.status { _ = try c.search("docs", text: "x", filter: "{") }.0 == .invalidArgument)
        #expect(Self.status { _ = try c.search("docs", [], k: 3) }.0 == .invalidArgument)
        #expect(Self.status { _ = try c.search("docs", [SearchQuery()], k: 3) }.0 == .invalidArgument)
        #expect(Self.status { _ = try c.search("nope", text: "x") }.0 == .notFound)

        // Delete, describe, stats, list, drop.
        #expect(try c.delete("docs", keys: ["k0", "never"]) == 1)
        #expect(try c.count("docs") == 4 && (try c.get("docs", key: "k0")) == nil)
        let described = try c.describeCollection("docs")
        #expect(described.count == 4 && described.stats?.count == 4 && described.error.isEmpty)
        _ = try c.createCollection("raw", dimension: 3, metric: "l2")
        #expect(try c.listCollections().map(\.name) == ["docs", "raw"])
        #expect(try c.stats().count == 2 && (try c.stats("raw")).first?.metric == "l2")
        try c.dropCollection("raw")
        #expect(try c.listCollections().map(\.name) == ["docs"])
        #expect(Self.status { try c.dropCollection("raw") }.0 == .notFound)
        #expect(Self.status { _ = try c.count("raw") }.0 == .notFound)
    }

    /// The `store:` section of embedd.yaml reaches the collections: with a 1 MiB log limit a
    /// collection checkpoints after ~2 MiB of upserts (the default limit is 256 MiB).
    @Test func storeSettingsFromTheConfigurationApply() throws {
        let d = try TestDaemon(settings: "store:\n  checkpoint_log_size: 1MiB\n  rerank_factor: 3")
        let c = try d.client()
        _ = try c.createCollection("small-log", dimension: 256, metric: "l2")
        for batch in 0..<20 {
            let items = (0..<100).map { i in
                UpsertItem.vector("k\(batch * 100 + i)", (0..<256).map { Float(($0 * 7 + i + batch) % 31) })
            }
            #expect(try c.upsert("small-log", items).stored == 100)
        }
        var stats = try #require(c.describeCollection("small-log").stats)
        let deadline = Date().addingTimeInterval(30)
        while stats.checkpointSequence == 0 && Date() < deadline {
            usleep(50_000)
            stats = try #require(c.describeCollection("small-log").stats)
        }
        #expect(stats.checkpointSequence > 0, "no checkpoint after 2 MiB of log with a 1 MiB limit")
        #expect(stats.walBytes < 2 << 20, "log still \(stats.walBytes) bytes")
        #expect(try c.count("small-log") == 2000)
        #expect(try c.search("small-log", vector: (0..<256).map { Float(($0 * 7 + 5) % 31) }, k: 1).first?.key == "k5")
    }

    @Test func rawCollectionsPerItemResultsAndSkipExisting() throws {
        let d = try TestDaemon()
        let c = try d.client()
        _ = try c.createCollection("v", dimension: 3, metric: "l2")
        let r = try c.upsert("v", [
            .vector("a", [1, 0, 0], metadata: #"{"t":"x"}"#), .vector("b", [0, 1, 0]),
            .vector("bad-meta", [0, 0, 1], metadata: "[1,2]"), .vector("nan", [.nan, 0, 0]),
            UpsertItem(key: "empty", value: nil), .vector("", [1, 1, 1]),
        ])
        #expect(r.results.map(\.outcome) == [.stored, .stored, .failed, .failed, .failed, .failed])
        #expect(r.stored == 2 && r.failed == 4 && r.results[2].error.contains("JSON object"))
        #expect(try c.count("v") == 2)
        // A wrong dimension fails the call, naming the collection's shape.
        let dim = Self.status { _ = try c.upsert("v", [.vector("c", [1, 2])]) }
        #expect(dim.0 == .invalidArgument && dim.1.contains("2 components") && dim.1.contains("raw 3-dimensional collection 'v'"))
        let input = Self.status { _ = try c.upsert("v", [.text("c", "hello")]) }
        #expect(input.0 == .invalidArgument && input.1.contains("send vectors"))
        #expect(Self.status { _ = try c.search("v", text: "hello") }.0 == .invalidArgument)
        // skip_existing leaves stored keys alone.
        let again = try c.upsert("v", [.vector("a", [9, 9, 9]), .vector("c", [0, 0, 2])], skipExisting: true)
        #expect(again.results.map(\.outcome) == [.skippedExisting, .stored] && again.skipped == 1)
        #expect(try c.get("v", key: "a")?.vector?.values == [1, 0, 0])
        let hits = try c.search("v", vector: [0, 0, 1.9], k: 1)
        #expect(hits.first?.key == "c" && abs(hits.first!.score - 0.1) < 1e-5)
    }

    @Test func mixedSpacesAndDimensionsAreRefusedNamingTheModel() throws {
        let models = TestDaemon.fixtureModel(name: "fx", options: ["space": "fixture/trigram"])
            + "\n" + TestDaemon.fixtureModel(name: "other", options: ["space": "other/space", "dim": "8"])
            + "\n" + TestDaemon.fixtureModel(name: "twin", options: ["space": "fixture/trigram", "version": "v2"])
        let d = try TestDaemon(models: models)
        let c = try d.client()
        _ = try c.createCollection("docs", model: "fx")
        let wrongModel = Self.status { _ = try c.upsert("docs", [.text("a", "hello")], model: "other") }
        #expect(wrongModel.0 == .invalidArgument)
        #expect(wrongModel.1.contains("belongs to model 'fx'") && wrongModel.1.contains("other/space"))
        let searchWrong = Self.status { _ = try c.search("docs", [.text("hello")], model: "other") }
        #expect(searchWrong.0 == .invalidArgument && searchWrong.1.contains("'fx'"))
        // A model of the same space may be named (e.g. the other tower of a CLIP).
        #expect(try c.upsert("docs", [.text("a", "hello")], model: "twin").stored == 1)
        let vec = Self.status { _ = try c.search("docs", vector: [1, 2, 3]) }
        #expect(vec.0 == .invalidArgument && vec.1.contains("belongs to model 'fx'") && vec.1.contains("dimension 16"))
        // A kind of input the model does not take (the fixture has no audio).
        let audio = Self.status { _ = try c.search("docs", [SearchQuery(.input(Input(.audio(Audio(samples: [0.1], sampleRate: 16000)))))]) }
        #expect(audio.0 == .invalidArgument && audio.1.contains("'fx'"))

        // Hot swap that changes the bound model's space: the collection refuses inputs.
        let config = try String(contentsOfFile: d.configPath, encoding: .utf8)
        let swapped = config.replacingOccurrences(of: "name: fx\n    plugin: \(Products.fixturePlugin)\n    model_dir: fixture-model\n    options: { dim: \"16\", space: \"fixture/trigram\" }",
                                                  with: "name: fx\n    plugin: \(Products.fixturePlugin)\n    model_dir: fixture-model\n    options: { dim: \"16\", space: \"fixture/changed\" }")
        try #require(swapped != config)
        try swapped.write(toFile: d.configPath, atomically: true, encoding: .utf8)
        let before = try Self.model(c, "fx").generation
        d.signal(SIGHUP)
        let deadline = Date().addingTimeInterval(20)
        while try Self.model(c, "fx").generation == before && Date() < deadline { usleep(20_000) }
        #expect(try Self.model(c, "fx").embeddingSpace == "fixture/changed")
        let afterSwap = Self.status { _ = try c.upsert("docs", [.text("b", "hello")]) }
        #expect(afterSwap.0 == .failedPrecondition && afterSwap.1.contains("fixture/changed") && afterSwap.1.contains("'fx'"))
        #expect(try c.describeCollection("docs").error.contains("fixture/changed"))
        // Vectors of the right dimension still work.
        #expect(try c.search("docs", vector: [Float](repeating: 0.25, count: 16), k: 1).count == 1)
    }

    /// Inputs queued before a hot swap that changes the model's space are computed by the new
    /// instance: an Upsert or Search waiting in the queue then fails with FAILED_PRECONDITION
    /// and stores nothing — the space is checked again on the vectors that come back.
    @Test func callsQueuedAcrossASpaceChangingSwapAreRefused() throws {
        let models = TestDaemon.fixtureModel(name: "fx", options: ["space": "fixture/trigram", "delay_us": "150000"])
        let d = try TestDaemon(models: models)
        let c = try d.client()
        _ = try c.createCollection("docs", model: "fx")
        let before = try Self.model(c, "fx").generation
        // Occupy the model's compute thread (4 × 150 ms), then queue an Upsert and a Search behind it.
        let path = d.socketPath
        let connect = { @Sendable () throws -> EmbedClient in try EmbedClient(socketPath: path, clientName: "swap-test", timeoutSeconds: 30) }
        let busy = Thread { _ = try? connect().embed(model: "fx", inputs: (0..<4).map { .text("busy \($0)") }) }
        busy.start()
        usleep(100_000)
        let upsert = Mutex<(StatusCode?, String)>((nil, "")), search = Mutex<(StatusCode?, String)>((nil, ""))
        let u = Thread { let r = Self.status { _ = try connect().upsert("docs", [.text("queued", "hello")]) }; upsert.withLock { $0 = r } }
        let q = Thread { let r = Self.status { _ = try connect().search("docs", [.text("hello")]) }; search.withLock { $0 = r } }
        u.start(); q.start()
        usleep(50_000)
        let config = try String(contentsOfFile: d.configPath, encoding: .utf8)
        let swapped = config.replacingOccurrences(of: "space: \"fixture/trigram\"", with: "space: \"fixture/changed\"")
        try #require(swapped != config)
        try swapped.write(toFile: d.configPath, atomically: true, encoding: .utf8)
        d.signal(SIGHUP)
        let deadline = Date().addingTimeInterval(20)
        while (upsert.withLock { $0.0 } == nil || search.withLock { $0.0 } == nil) && Date() < deadline { usleep(20_000) }
        #expect(try Self.model(c, "fx").generation != before && Self.model(c, "fx").embeddingSpace == "fixture/changed")
        let (uc, um) = upsert.withLock { $0 }, (sc, sm) = search.withLock { $0 }
        #expect(uc == .failedPrecondition && um.contains("fixture/changed") && um.contains("swapped"), "\(String(describing: uc)): \(um)")
        #expect(sc == .failedPrecondition && sm.contains("fixture/changed"), "\(String(describing: sc)): \(sm)")
        #expect(try c.get("docs", key: "queued") == nil)
        #expect(try c.count("docs") == 0)
    }

    @Test func filesPassedAsDescriptors() throws {
        let d = try TestDaemon()
        let c = try d.client()
        _ = try c.createCollection("files", model: "fx")
        let path = d.directory + "/note.txt"
        try "a file about green turtles".write(toFile: path, atomically: true, encoding: .utf8)
        let fd = try FileDescriptor.open(path, .readOnly)
        defer { try? fd.close() }
        let dir = try FileDescriptor.open(d.directory, [.readOnly, .directory])
        defer { try? dir.close() }
        let r = try c.upsert("files", [
            UpsertItem(key: "note", value: .input(Input(.file(FileRef(index: 0, mimeType: "text/plain")))), metadata: #"{"path":"note.txt"}"#),
            UpsertItem(key: "dir", value: .input(Input(.file(FileRef(index: 1))))),
            UpsertItem(key: "missing", value: .input(Input(.file(FileRef(index: 7))))),
        ], files: [fd, dir])
        #expect(r.results.map(\.outcome) == [.stored, .failed, .failed])
        #expect(r.results[1].error.contains("not a regular file") && r.results[2].error.contains("not passed"))
        let expected = try c.embed(model: "fx", inputs: [.text("a file about green turtles")]).vectors[0].values
        #expect(try c.get("files", key: "note")?.vector?.values == expected)
        // Embed and Search take files too; the same descriptor may be passed again.
        let e = try c.embed(model: "fx", inputs: [Input(.file(FileRef(index: 0, mimeType: "text/plain")))], files: [fd])
        #expect(e.vectors[0].values == expected)
        let s = try c.search("files", [SearchQuery(.input(Input(.file(FileRef(index: 0, mimeType: "text/plain")))))], k: 1, files: [fd])
        // Without a MIME type a model that takes media gets the bytes as media (the fixture wants its own type).
        let sniffed = Self.status { _ = try c.embed(model: "fx", inputs: [Input(.file(FileRef(index: 0)))], files: [fd]) }
        #expect(sniffed.0 == .invalidArgument && sniffed.1.contains("media type"))
        #expect(s.results[0].hits.first?.key == "note")
        // A reference without descriptors fails alone; the connection stays usable.
        let none = try c.upsert("files", [UpsertItem(key: "x", value: .input(Input(.file(FileRef(index: 0)))))])
        #expect(none.results[0].outcome == .failed && none.results[0].error.contains("no descriptors"))
        #expect(try c.count("files") == 1)
    }

    /// A Search whose hits would not fit one frame is refused with RESOURCE_EXHAUSTED before
    /// the daemon builds the reply (k may be 100 000 and metadata 64 KiB per hit), and smaller
    /// searches on the same data still work.
    @Test func searchRepliesStayWithinTheFrameLimit() throws {
        let d = try TestDaemon(models: TestDaemon.fixtureModel() + "\n" + TestDaemon.fixtureModel(name: "wide", options: ["dim": "4096"]),
                               settings: """
        limits:
          max_frame_bytes: 64KiB
        """)
        let c = try d.client()
        // Any method's reply over the limit becomes RESOURCE_EXHAUSTED (here: 8 × 4096 floats).
        let wide = Self.status { _ = try c.embed(model: "wide", inputs: (0..<8).map { .text("t\($0)") }) }
        #expect(wide.0 == .resourceExhausted && wide.1.contains("max_frame_bytes"), "\(wide)")
        #expect(try c.embed(model: "wide", inputs: [.text("one")]).vectors[0].values.count == 4096)
        _ = try c.createCollection("big", dimension: 2, metric: "l2")
        let pad = String(repeating: "x", count: 1000)
        for chunk in 0..<10 {
            let items = (0..<20).map { j -> UpsertItem in
                let i = chunk * 20 + j
                return .vector("k\(i)", [Float(i), 0], metadata: #"{"pad":"\#(pad)","i":\#(i)}"#)
            }
            #expect(try c.upsert("big", items).stored == 20)
        }
        let one = [SearchQuery(.vector(Vector(values: [0, 0])))]
        let big = Self.status { _ = try c.search("big", one, k: 100) }
        #expect(big.0 == .resourceExhausted && big.1.contains("max_frame_bytes") && big.1.contains("k 100"), "\(big)")
        let many = Self.status { _ = try c.search("big", Array(repeating: one[0], count: 10), k: 10) }
        #expect(many.0 == .resourceExhausted && many.1.contains("query"), "\(many)")
        let fine = try c.search("big", Array(repeating: one[0], count: 3), k: 10)
        #expect(fine.results.count == 3 && fine.results.allSatisfy { $0.hits.map(\.key) == (0..<10).map { "k\($0)" } })
    }

    /// Files passed with one call are bounded in all (4 × max_frame_bytes), each is read once
    /// however many inputs name it, and the input count is checked before any file is read.
    @Test func passedFilesAreBoundedPerCall() throws {
        let d = try TestDaemon(settings: """
        limits:
          max_frame_bytes: 64KiB
          max_inputs_per_call: 8
        """)
        let c = try d.client()
        let small = d.directory + "/small.txt"
        try "a small file".write(toFile: small, atomically: true, encoding: .utf8)
        let smallFD = try FileDescriptor.open(small, .readOnly)
        defer { try? smallFD.close() }
        let same = Array(repeating: Input(.file(FileRef(index: 0, mimeType: "text/plain"))), count: 8)
        let e = try c.embed(model: "fx", inputs: same, files: [smallFD])
        #expect(e.vectors.count == 8 && Set(e.vectors.map(\.values)).count == 1)
        var big: [FileDescriptor] = []
        defer { for f in big { try? f.close() } }
        for i in 0..<5 {
            let p = d.directory + "/big\(i).txt"
            try String(repeating: "\(i)", count: 60 << 10).write(toFile: p, atomically: true, encoding: .utf8)
            big.append(try FileDescriptor.open(p, .readOnly))
        }
        let five = (0..<5).map { Input(.file(FileRef(index: UInt32($0), mimeType: "text/plain"))) }
        let tooMuch = Self.status { _ = try c.embed(model: "fx", inputs: five, files: big) }
        #expect(tooMuch.0 == .resourceExhausted && tooMuch.1.contains("in all"), "\(tooMuch)")
        let nine = Array(repeating: Input(.file(FileRef(index: 7))), count: 9)
        let counted = Self.status { _ = try c.embed(model: "fx", inputs: nine, files: [smallFD]) }
        #expect(counted.0 == .invalidArgument && counted.1.contains("max_inputs_per_call"), "\(counted)")
    }

    /// A flagged request that is refused before it runs (unknown method, admin method) must not
    /// leave its descriptors queued for the next flagged request: that call would read another
    /// call's files.
    @Test func refusedCallsDoNotHandTheirFilesToTheNextCall() throws {
        let d = try TestDaemon()
        let c = try d.client()
        let wrongPath = d.directory + "/wrong.txt", rightPath = d.directory + "/right.txt"
        try "the wrong file".write(toFile: wrongPath, atomically: true, encoding: .utf8)
        try "the right file".write(toFile: rightPath, atomically: true, encoding: .utf8)
        let wrong = try FileDescriptor.open(wrongPath, .readOnly), right = try FileDescriptor.open(rightPath, .readOnly)
        defer { try? wrong.close(); try? right.close() }
        let input = Input(.file(FileRef(index: 0, mimeType: "text/plain")))
        let expected = try c.embed(model: "fx", inputs: [.text("the right file")]).vectors[0].values
        let refusals: [(MethodID, StatusCode)] = getuid() == 0 ? [(MethodID(rawValue: 99), .unimplemented)]
            : [(MethodID(rawValue: 99), .unimplemented), (.loadPlugin, .permissionDenied)]
        for (method, code) in refusals {
            let refused = Self.status { _ = try c.call(method, EmbedRequest(model: "fx", inputs: [input]), as: EmbedResponse.self, descriptors: [wrong]) }
            #expect(refused.0 == code, "\(method): \(refused)")
            let e = try c.embed(model: "fx", inputs: [input], files: [right])
            #expect(e.vectors[0].values == expected, "after a refused \(method), the next call read another call's file")
        }
    }

    @Test func restartKeepsCollectionsBindingsAndACLs() throws {
        let data = try FileSystem.makeTemporaryDirectory(template: "/tmp/embedd-store-it.XXXXXX")
        defer { try? FileManager.default.removeItem(atPath: data) }
        var before: CollectionInfo
        do {
            let d = try TestDaemon(extraArguments: ["--data-dir", data])
            let c = try d.client()
            _ = try c.createCollection(CreateCollectionRequest(name: "kept", model: "fx", acl: CollectionAcl(writerUids: [65534], restrictRead: true)))
            _ = try c.createCollection("rawkept", dimension: 4, metric: "ip")
            #expect(try c.upsert("kept", [.text("a", "persistent text"), .text("b", "another one")]).stored == 2)
            #expect(try c.upsert("rawkept", [.vector("v", [1, 2, 3, 4])]).stored == 1)
            before = try c.describeCollection("kept")
            #expect(d.stop() == 0)
        }
        let d = try TestDaemon(extraArguments: ["--data-dir", data])
        let c = try d.client()
        let after = try c.describeCollection("kept")
        #expect(after.model == "fx" && after.embeddingSpace == before.embeddingSpace && after.count == 2)
        #expect(after.acl == before.acl && after.acl?.writerUids == [65534] && after.acl?.restrictRead == true)
        #expect(after.createdUnixMs == before.createdUnixMs)
        #expect(try c.search("kept", text: "persistent text", k: 1).first?.key == "a")
        #expect(try c.describeCollection("rawkept").metric == "ip")
        #expect(try c.get("rawkept", key: "v")?.vector?.values == [1, 2, 3, 4])
    }
}
