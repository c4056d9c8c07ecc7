import EmbedJSON
import EmbedMilvus
import Testing

@Suite struct MilvusRecordTests {
    @Test func rowMapping() throws {
        let r = MilvusRecord(key: "a\"b", vector: [0.1, -2, 1e-7], metadata: #"{"lang": "en", "n": 1.50}"#,
                             document: #"{"text": "hi\n"}"#)
        var row = ""
        try r.appendRow(to: &row, hashedID: false)
        #expect(row == #"{"key":"a\"b","vector":[0.1,-2.0,1e-07],"metadata":{"lang":"en","n":1.50},"document":{"text":"hi\n"}}"#)
        var hashed = ""
        try MilvusRecord(key: "a", vector: [1]).appendRow(to: &hashed, hashedID: true)
        #expect(hashed == #"{"key":"a","id":3414815163700866188,"vector":[1.0]}"#)
        #expect(MilvusKeyHash.id("a") == 3414815163700866188)
    }

    /// Integers past 2^53 would come back rounded (Milvus keeps JSON numbers as float64), so the
    /// exact text rides along in `metadata_text`; ordinary metadata does not carry it.
    @Test func wideIntegersKeepTheirText() throws {
        var row = ""
        let meta = #"{"id": 12345678901234567890, "ok": [9007199254740992]}"#
        try MilvusRecord(key: "k", vector: [1], metadata: meta).appendRow(to: &row, hashedID: false)
        let parsed = try JSONValue.parse(row)
        #expect(parsed["metadata_text"]?.string == meta)
        row = ""
        try MilvusRecord(key: "k", vector: [1], metadata: #"{"ok": [-9007199254740992, 1e300, 2.5]}"#).appendRow(to: &row, hashedID: false)
        #expect(try JSONValue.parse(row)["metadata_text"] == nil)
    }

    @Test func vectorsReadBackBitEqual() throws {
        var state: UInt32 = 12345
        var v: [Float] = []
        for _ in 0..<4096 {
            state = state &* 1_664_525 &+ 1_013_904_223
            let f = Float(bitPattern: state)
            v.append(f.isFinite ? f : 0)
        }
        let rows = try MilvusRecord.rows([MilvusRecord(key: "k", vector: v)], hashedID: false)
        let parsed = try #require(try JSONValue.parse(rows).array?.first?["vector"]?.array)
        #expect(parsed.count == v.count)
        for (x, f) in zip(parsed, v) {
            #expect(x.double.map { Float($0).bitPattern } == f.bitPattern)
        }
    }

    @Test func refusesWhatJSONCannotCarry() {
        var row = ""
        #expect(throws: MilvusError.self) { try MilvusRecord(key: "k", vector: [.nan]).appendRow(to: &row, hashedID: false) }
        #expect(throws: MilvusError.self) { try MilvusRecord(key: "k", vector: [1], metadata: "[1]").appendRow(to: &row, hashedID: false) }
        do {
            try MilvusRecord(key: "k", vector: [1, .infinity]).appendRow(to: &row, hashedID: false)
        } catch {
            #expect(error.description.contains("record 'k': component 1"))
        }
    }

    @Test func selectors() {
        let key = MilvusSchema(primaryKey: .key, dimension: 2, metric: "COSINE", dynamicFields: true)
        #expect(key.selector(keys: ["a", "b\"c"]) == #"key in ["a","b\"c"]"#)
        #expect(key.everything == #"key != """#)
        let hashed = MilvusSchema(primaryKey: .hashed(field: "pk"), dimension: 2, metric: nil, dynamicFields: true)
        #expect(hashed.selector(keys: ["a"]) == "pk in [3414815163700866188]")
        #expect(hashed.everything == "pk >= 0")
        let auto = MilvusSchema(primaryKey: .autoID(field: "id"), dimension: 2, metric: nil, dynamicFields: true)
        #expect(auto.selector(keys: ["x"]) == #"key in ["x"]"#)
    }

    @Test func metrics() {
        #expect(MilvusMetric.milvusName("cosine") == "COSINE")
        #expect(MilvusMetric.milvusName("l2") == "L2")
        #expect(MilvusMetric.milvusName("ip") == "IP")
        #expect(MilvusMetric.milvusName("hamming") == nil)
    }
}
