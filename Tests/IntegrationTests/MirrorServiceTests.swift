import EmbedClient
import EmbedSys
import EmbedWire
import Foundation
import Testing

/// Changes, SetMirror, AckMirror and ListMirrors (ids 44–47) against a real daemon: paging,
/// lag in DescribeCollection, bad requests, and the stale answer once the log is gone.
@Suite(.serialized) struct MirrorServiceTests {
    @Test func changesAndCursorsOverTheSocket() throws {
        let d = try TestDaemon(settings: "store:\n  checkpoint_log_size: 1MiB\n")
        let c = try d.client()
        #expect(c.supportsMirrors)
        _ = try c.createCollection("m", dimension: 4, metric: "l2")
        _ = try c.upsert("m", [.vector("old", [1, 2, 3, 4])])
        // Nothing retained before a mirror exists, once a checkpoint emptied the log.
        _ = try c.call(.optimizeCollection, OptimizeCollectionRequest(name: "m"), as: OptimizeCollectionResponse.self)
        let gone = StoreServiceTests.status { _ = try c.changes("m", after: 0) }
        #expect(gone.0 == .failedPrecondition && gone.1.contains("fresh export"))

        let info = try #require(try c.setMirror("m", target: "milvus://h:1/x", prefix: "a/", action: .register))
        #expect(info.sequence == 1 && info.prefix == "a/")
        #expect(StoreServiceTests.status { _ = try c.setMirror("m", target: "milvus://h:1/x", action: .register) }.0 == .invalidArgument)
        #expect(StoreServiceTests.status { _ = try c.setMirror("m", target: "", action: .register) }.0 == .invalidArgument)
        #expect(StoreServiceTests.status { _ = try c.setMirror("m", target: "t", action: MirrorAction(rawValue: 9)) }.0 == .invalidArgument)

        let v: [Float] = [0.1, 0.2, 0.30000001, 1e-7]
        _ = try c.upsert("m", [.vector("a", v, metadata: #"{"x":1}"#), .vector("b", [0, 0, 0, 1])])
        _ = try c.delete("m", keys: ["a", "nope"])
        let page = try c.changes("m", after: 1, limit: 1)
        #expect(page.changes.count == 1 && page.nextSequence == 2 && page.lastSequence == 3)
        let up = try #require(page.changes.first)
        #expect(!up.delete && up.records.map(\.key) == ["a", "b"] && up.records[0].vector?.values == v && up.records[0].metadata == #"{"x":1}"#)
        let rest = try c.changes("m", after: 2)
        #expect(rest.changes.map(\.sequence) == [3] && rest.changes[0].delete && rest.changes[0].keys == ["a"])
        #expect(try c.changes("m", after: 3).changes.isEmpty)
        #expect(StoreServiceTests.status { _ = try c.changes("m", after: 99) }.0 == .invalidArgument)
        #expect(StoreServiceTests.status { _ = try c.changes("m", after: 0, limit: 200_000) }.0 == .invalidArgument)

        let described = try c.describeCollection("m")
        #expect(described.mirrors.count == 1 && described.mirrorLagRecords == 3 && described.mirrors[0].lagSeconds >= 0)
        // The same lag in the metrics, per mirror.
        let lagLine = #"embedd_mirror_lag_records{collection="m",target="milvus://h:1/x"} "#
        #expect(try c.metrics().split(separator: "\n").contains { $0.hasPrefix(lagLine) && $0.hasSuffix(" 3") })
        let acked = try c.ackMirror("m", target: "milvus://h:1/x", sequence: 3)
        #expect(acked.sequence == 3 && acked.lagRecords == 0 && acked.lagSeconds == 0)
        #expect(try c.metrics().contains(lagLine + "0\n"))
        #expect(StoreServiceTests.status { _ = try c.ackMirror("m", target: "other", sequence: 1) }.0 == .failedPrecondition)
        #expect(try c.mirrors("m").map(\.sequence) == [3])
        _ = try c.setMirror("m", target: "milvus://h:1/x", action: .remove)
        #expect(try c.mirrors("m").isEmpty)
        #expect(try c.describeCollection("m").mirrors.isEmpty)
    }
}
