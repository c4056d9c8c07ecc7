import Foundation
import Testing
@testable import EmbedWire

/// Samples of every store message (ids 32…41) and of `FileRef`.
enum StoreSamples {
    static let acl = CollectionAcl(ownerUid: 1000, readerUids: [1, 300, 70_000], readerGids: [], writerUids: [0xFFFF_FFFE],
                                   writerGids: [100, 27], restrictRead: true)
    static let stats = CollectionStats(count: 1000, deleted: 3, unindexed: 1, nodes: 1003, maxLevel: -1, walBytes: 1 << 33,
                                       snapshotBytes: 0, memoryBytes: 1_600_000, lastSequence: 77, checkpointSequence: 70)
    static let info = CollectionInfo(name: "docs", model: "all-MiniLM-L6-v2", embeddingSpace: "minilm-l6-v2", dimension: 384,
                                     metric: "cosine", storage: "f32", count: 1000, acl: acl, createdUnixMs: 1_764_000_000_000,
                                     hnswM: 16, hnswEfConstruction: 200, hnswEf: 100, stats: stats, canRead: true, canWrite: false,
                                     error: "model 'x' now has space 'y'")
    static let all: [(String, [UInt8], @Sendable ([UInt8]) throws -> [UInt8])] = [
        Samples.entry("FileRef", FileRef(index: 2, mimeType: "text/plain")),
        Samples.entry("Input", Input(.file(FileRef(index: 0)))),
        Samples.entry("CollectionAcl", acl),
        Samples.entry("CollectionAcl", CollectionAcl()),
        Samples.entry("CollectionStats", stats),
        Samples.entry("CollectionInfo", info),
        Samples.entry("CreateCollectionRequest", CreateCollectionRequest(name: "docs", model: "all-MiniLM-L6-v2", dimension: 0, metric: "",
                                                                         storage: "f32", hnswM: 32, hnswEfConstruction: 400, hnswEf: 64,
                                                                         acl: acl, existOk: true)),
        Samples.entry("CreateCollectionRequest", CreateCollectionRequest(name: "raw", dimension: 3, metric: "l2")),
        Samples.entry("CreateCollectionResponse", CreateCollectionResponse(collection: info)),
        Samples.entry("DropCollectionRequest", DropCollectionRequest(name: "docs")),
        Samples.entry("DropCollectionResponse", DropCollectionResponse()),
        Samples.entry("ListCollectionsRequest", ListCollectionsRequest()),
        Samples.entry("ListCollectionsResponse", ListCollectionsResponse(collections: [info, CollectionInfo(name: "raw", dimension: 3)])),
        Samples.entry("DescribeCollectionRequest", DescribeCollectionRequest(name: "docs")),
        Samples.entry("DescribeCollectionResponse", DescribeCollectionResponse(collection: info)),
        Samples.entry("UpsertItem", UpsertItem.text("k1", "hello", metadata: #"{"lang":"en"}"#)),
        Samples.entry("UpsertItem", UpsertItem.vector("k2", [1, -2, 0.5])),
        Samples.entry("UpsertItem", UpsertItem(key: "k3", value: .input(Input(.file(FileRef(index: 1, mimeType: "image/png")))))),
        Samples.entry("UpsertItem", UpsertItem(key: "", value: nil)),
        Samples.entry("UpsertRequest", UpsertRequest(collection: "docs", items: [
            .text("a", "naïve café"), .vector("b", [0, 0, 1], metadata: "{}"),
            UpsertItem(key: "c", value: .input(Input(.media(Media(data: [1, 2, 3], mimeType: "image/png"))))),
        ], skipExisting: true, model: "all-MiniLM-L6-v2")),
        Samples.entry("UpsertResult", UpsertResult(key: "a", outcome: .stored)),
        Samples.entry("UpsertResult", UpsertResult(key: "b", outcome: .failed, error: "input rejected")),
        Samples.entry("UpsertResponse", UpsertResponse(results: [UpsertResult(key: "a", outcome: .skippedExisting),
                                                                 UpsertResult(key: "z", outcome: UpsertOutcome(rawValue: 9))],
                                                       stored: 0, skipped: 1, failed: 0)),
        Samples.entry("SearchQuery", SearchQuery.text("where is the cat")),
        Samples.entry("SearchQuery", SearchQuery.vector([0.25, -1])),
        Samples.entry("SearchRequest", SearchRequest(collection: "docs", queries: [.text("q1"), .vector([1, 2, 3])], k: 5, ef: 200,
                                                     filter: #"{"lang":"en","year":{"$in":[2023,2024]}}"#, model: "m")),
        Samples.entry("SearchHit", SearchHit(key: "a", score: -0.5, metadata: #"{"x":1}"#)),
        Samples.entry("SearchResult", SearchResult(hits: [SearchHit(key: "a", score: 0.9), SearchHit(key: "b", score: 0)])),
        Samples.entry("SearchResponse", SearchResponse(results: [SearchResult(hits: [SearchHit(key: "a", score: 1)]), SearchResult()],
                                                       metric: "cosine")),
        Samples.entry("GetRequest", GetRequest(collection: "docs", key: "a")),
        Samples.entry("GetResponse", GetResponse(key: "a", vector: Vector(values: [1, 2]), metadata: "{}")),
        Samples.entry("DeleteRequest", DeleteRequest(collection: "docs", keys: ["a", "", "ü"])),
        Samples.entry("DeleteResponse", DeleteResponse(deleted: 2)),
        Samples.entry("CountRequest", CountRequest(collection: "docs")),
        Samples.entry("CountResponse", CountResponse(count: 1 << 40)),
        Samples.entry("StatsRequest", StatsRequest()),
        Samples.entry("StatsResponse", StatsResponse(collections: [info])),
    ]
}

@Suite struct StoreMessageTests {
    @Test func everyStoreMessageRoundTrips() throws {
        for (name, bytes, reencode) in StoreSamples.all {
            #expect(try reencode(bytes) == bytes, "\(name) did not round-trip")
        }
    }

    @Test func decodedValuesMatch() throws {
        let info = try CollectionInfo(serializedBytes: StoreSamples.info.serializedBytes())
        #expect(info == StoreSamples.info)
        #expect(info.stats?.maxLevel == -1)
        #expect(info.acl?.writerUids == [0xFFFF_FFFE])
        let req = try UpsertRequest(serializedBytes: UpsertRequest(collection: "c", items: [.text("k", "t")]).serializedBytes())
        #expect(req.items == [UpsertItem(key: "k", value: .input(.text("t")))])
    }

    @Test func packedAndUnpackedUInt32sBothDecode() throws {
        // reader_uids = [1, 300] packed: 12 03 01 ac 02; unpacked: 10 01 10 ac 02 (field 2 varint twice).
        #expect(CollectionAcl(readerUids: [1, 300]).serializedBytes() == [0x12, 0x03, 0x01, 0xAC, 0x02])
        let unpacked = try CollectionAcl(serializedBytes: [0x10, 0x01, 0x10, 0xAC, 0x02])
        #expect(unpacked.readerUids == [1, 300])
        #expect(throws: WireError.self) { try CollectionAcl(serializedBytes: [0x15, 0, 0, 0, 0]) }  // fixed32: wrong type
        #expect(throws: WireError.self) { try CollectionAcl(serializedBytes: [0x12, 0x02, 0x80]) }   // truncated packed run
    }

    @Test func oneofMembersAreWrittenEvenWhenEmpty() {
        // SearchQuery{vector: Vector{}} must stay distinguishable from an empty SearchQuery.
        #expect(SearchQuery.vector([]).serializedBytes() == [0x12, 0x00])
        #expect(SearchQuery().serializedBytes().isEmpty)
        #expect(Input(.file(FileRef())).serializedBytes() == [0x2A, 0x00])
    }

    @Test func descriptorsFlag() {
        var f = Frame.request(callID: 1, method: .upsert, message: UpsertRequest())
        #expect(!f.carriesDescriptors)
        f.flags |= Frame.descriptors
        #expect(f.carriesDescriptors && f.encoded()[5] == 0x03)
    }

    /// Google's protobuf (Python, from proto/embedd.proto via protoc) decodes every store sample,
    /// knows every field, and re-encodes it to exactly our bytes.
    @Test func pythonProtobufAgreesOnStoreMessages() throws {
        let script = #"""
for line in sys.stdin:
    name, hx = line.split()
    hx = "" if hx == "-" else hx
    m = getattr(pb, name)()
    m.ParseFromString(bytes.fromhex(hx))
    m.DiscardUnknownFields()
    print(name, m.SerializeToString(deterministic=True).hex() or "-")
"""#
        let input = StoreSamples.all.map { "\($0.0) \(PythonProtobuf.hex($0.1))\n" }.joined()
        let lines = try PythonProtobuf.run(script, input: input)
        try #require(lines.count == StoreSamples.all.count)
        for (line, sample) in zip(lines, StoreSamples.all) {
            #expect(line == "\(sample.0) \(PythonProtobuf.hex(sample.1))", "python disagrees on \(sample.0)")
        }
    }
}
