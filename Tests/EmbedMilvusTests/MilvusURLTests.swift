import EmbedMilvus
import Testing

@Suite struct MilvusURLTests {
    @Test func parsesTheForms() throws {
        #expect(try MilvusURL(parsing: "milvus://localhost:19530/docs") == MilvusURL(host: "localhost", port: 19530, collection: "docs"))
        #expect(try MilvusURL(parsing: "milvus://10.0.0.5/docs") == MilvusURL(host: "10.0.0.5", port: 19530, collection: "docs"))
        #expect(try MilvusURL(parsing: "milvus://h:1/db_1/_c9") == MilvusURL(host: "h", port: 1, database: "db_1", collection: "_c9"))
        #expect(try MilvusURL(parsing: "MILVUS://[::1]:2000/c") == MilvusURL(host: "::1", port: 2000, collection: "c"))
        #expect(try MilvusURL(parsing: "milvus://[::1]:2000/c").description == "milvus://[::1]:2000/c")
        #expect(try MilvusURL(parsing: "milvus://h/d/c").description == "milvus://h:19530/d/c")
    }

    @Test func refusesWithTheReason() {
        func message(_ text: String) -> String {
            do { _ = try MilvusURL(parsing: text); return "parsed" } catch { return error.description }
        }
        #expect(message("localhost:19530/docs").contains("expected milvus://HOST:PORT/COLLECTION"))
        #expect(message("http://h:19530/docs").contains("scheme 'http' is not supported"))
        #expect(message("redis://h/docs").contains("unknown scheme 'redis'"))
        #expect(message("milvus://h:19530").contains("no collection name"))
        #expect(message("milvus://h:19530/").contains("no collection name"))
        #expect(message("milvus://:19530/c").contains("no host"))
        #expect(message("milvus://h:0/c").contains("port '0'"))
        #expect(message("milvus://h:99999/c").contains("port '99999'"))
        #expect(message("milvus://h:x/c").contains("port 'x'"))
        #expect(message("milvus://h/9c").contains("collection name '9c' is not a Milvus name"))
        #expect(message("milvus://h/a-b").contains("collection name 'a-b'"))
        #expect(message("milvus://h/a/b/c").contains("too many path parts"))
        #expect(message("milvus://u:p@h/c").contains("use --token"))
        #expect(message("milvus://[::1/c").contains("unclosed '['"))
        #expect(message("milvus://h/" + String(repeating: "a", count: 256)).contains("1 to 255"))
    }
}

@Suite struct MilvusKeyHashTests {
    /// Golden values: FNV-1a 64 of the UTF-8 bytes, top bit cleared (Python in docs/milvus.md).
    @Test func goldenValues() {
        #expect(MilvusKeyHash.id("") == 0x4bf2_9ce4_8422_2325)         // the offset basis, top bit cleared
        #expect(MilvusKeyHash.id("a") == 0x2f63_dc4c_8601_ec8c)           // FNV-1a: 0xaf63dc4c8601ec8c
        #expect(MilvusKeyHash.id("foobar") == 0x0594_4171_f739_67e8)      // FNV-1a: 0x85944171f73967e8
        #expect(MilvusKeyHash.id("é") == Self.reference(Array("é".utf8)))
    }

    @Test func nonNegativeAndStable() {
        for i in 0..<10_000 {
            let key = "doc-\(i)"
            let id = MilvusKeyHash.id(key)
            #expect(id >= 0)
            #expect(id == Self.reference(Array(key.utf8)))
        }
    }

    /// A second, byte-at-a-time statement of the hash (the spec as written in the docs).
    static func reference(_ bytes: [UInt8]) -> Int64 {
        var h: UInt64 = 14_695_981_039_346_656_037
        for b in bytes { h = (h ^ UInt64(b)) &* 1_099_511_628_211 }
        return Int64(h % (1 << 63))
    }
}
