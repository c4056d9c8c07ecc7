import EmbedJSON
import EmbedWire
import Testing
@testable import EmbedGateway

@Suite struct TEIMappingTests {
    func parse(_ json: String) throws(APIError) -> TEIEmbed { try TEIEmbed.parse(Array(json.utf8)) }

    @Test func fields() throws {
        let a = try parse(#"{"inputs":"hi"}"#)
        #expect(a.call.texts == ["hi"] && a.normalize && a.call.truncation == .default && a.call.prompt == "")
        let b = try parse(#"{"inputs":["x","y"],"normalize":false,"truncate":false,"prompt_name":"query","truncation_direction":"Right"}"#)
        #expect(b.call.texts == ["x", "y"] && !b.normalize && b.call.truncation == .off && b.call.prompt == "query")
        #expect(try parse(#"{"inputs":"x","truncate":true}"#).call.truncation == .on)
        #expect(throws: APIError.self) { try parse(#"{"inputs":"x","truncation_direction":"Left"}"#) }
        #expect(throws: APIError.self) { try parse(#"{"inputs":"x","normalize":"yes"}"#) }
        #expect(throws: APIError.self) { try parse(#"{"input":"x"}"#) }
    }

    @Test func vectorsAndNormalisation() throws {
        var r = EmbedResponse()
        r.model = "m"
        r.dim = 2
        r.vectors = [Vector(values: [3, 4])]
        let raw = try JSONValue.parse(try parse(#"{"inputs":"x","normalize":false}"#).response(r, modelNormalizes: false))
        #expect(raw.array?.first?.array?.compactMap(\.double) == [3, 4])
        let unit = try JSONValue.parse(try parse(#"{"inputs":"x"}"#).response(r, modelNormalizes: false))
        #expect(unit.array?.first?.array?.compactMap(\.double).map { Float($0) } == [0.6, 0.8])
        #expect(try parse(#"{"inputs":"x"}"#).response(r, modelNormalizes: true) == "[[3.0,4.0]]")
        #expect(throws: APIError.self) { try parse(#"{"inputs":"x","normalize":false}"#).response(r, modelNormalizes: true) }
    }
}

@Suite struct APIKeysTests {
    @Test func keysFileAndBearerCheck() throws {
        let keys = try APIKeys.parse("# comment\n\n  key-one  \nkey-two\r\n", file: "k")
        #expect(keys.count == 2)
        #expect(keys.accepts(authorization: "Bearer key-one"))
        #expect(keys.accepts(authorization: "bearer key-two"))
        #expect(!keys.accepts(authorization: "Bearer key-on"))
        #expect(!keys.accepts(authorization: "Bearer key-one2"))
        #expect(!keys.accepts(authorization: "Bearer "))
        #expect(!keys.accepts(authorization: "Basic key-one"))
        #expect(!keys.accepts(authorization: nil))
        #expect(throws: APIError.self) { try APIKeys.parse("a b\n", file: "k") }
    }
}
