import EmbedJSON
import EmbedWire
import Testing
@testable import EmbedGateway

@Suite struct OpenAIMappingTests {
    func parse(_ json: String) throws(APIError) -> OpenAIEmbeddings { try OpenAIEmbeddings.parse(Array(json.utf8)) }
    func error(_ json: String) -> APIError? { do { _ = try parse(json); return nil } catch { return error } }

    @Test func inputsAndOptions() throws {
        let one = try parse(#"{"input":"hello","model":"m","user":"u","encoding_format":"base64","dimensions":384}"#)
        #expect(one.call == EmbedCall(model: "m", texts: ["hello"]))
        #expect(one.encoding == .base64 && one.dimensions == 384)
        let many = try parse(#"{"input":["a","b"]}"#)
        #expect(many.call.texts == ["a", "b"] && many.call.model == "" && many.encoding == .float && many.dimensions == nil)
        #expect(many.call.request.inputs.map(\.kind) == [.text("a"), .text("b")])
    }

    /// LangChain's default: tiktoken ids. The 400 says how to turn it off.
    @Test func tokenIDsAreRefusedWithTheFix() {
        for body in [#"{"input":[1,2,3]}"#, #"{"input":[[1,2],[3]]}"#, #"{"input":5}"#] {
            let e = error(body)
            #expect(e?.status == 400 && e?.param == "input", "\(body)")
            #expect(e?.message.contains("check_embedding_ctx_length=False") == true, "\(body)")
        }
    }

    @Test func badRequestsAre400NamingTheField() {
        let cases: [(String, String?)] = [
            ("", nil), ("{", nil), ("[]", nil), (#"{"model":"m"}"#, "input"), (#"{"input":[]}"#, "input"),
            (#"{"input":["a",null]}"#, "input"), (#"{"input":{"a":1}}"#, "input"), (#"{"input":"a","model":3}"#, "model"),
            (#"{"input":"a","encoding_format":"int8"}"#, "encoding_format"), (#"{"input":"a","dimensions":0}"#, "dimensions"),
            (#"{"input":"a","dimensions":"384"}"#, "dimensions"),
        ]
        for (body, param) in cases {
            let e = error(body)
            #expect(e?.status == 400 && e?.param == param && e?.type == "invalid_request_error", "\(body): \(String(describing: e))")
        }
    }

    func response(dim: Int = 3) -> EmbedResponse {
        var r = EmbedResponse()
        r.model = "mini"
        r.dim = UInt32(dim)
        r.vectors = [Vector(values: [0.1, -2.5e-7, 1]), Vector(values: [Float.leastNonzeroMagnitude, 0.33333334, -0.0])]
        r.totalTokens = 7
        return r
    }

    @Test func floatResponsesHaveOpenAIsShapeAndExactFloats() throws {
        let text = try parse(#"{"input":["a","b"]}"#).response(response())
        let json = try JSONValue.parse(text)
        #expect(json["object"]?.string == "list" && json["model"]?.string == "mini")
        #expect(json["usage"]?["prompt_tokens"]?.int == 7 && json["usage"]?["total_tokens"]?.int == 7)
        let data = try #require(json["data"]?.array)
        #expect(data.count == 2 && data[1]["index"]?.int == 1 && data[1]["object"]?.string == "embedding")
        let floats = try #require(data[1]["embedding"]?.array).map { Float($0.double!) }
        #expect(floats.map(\.bitPattern) == response().vectors[1].values.map(\.bitPattern))
    }

    @Test func base64IsLittleEndianFloat32() throws {
        let text = try parse(#"{"input":"a","encoding_format":"base64"}"#).response(response())
        let json = try JSONValue.parse(text)
        let b64 = try #require(json["data"]?.array?.first?["embedding"]?.string)
        // 0.1f = 0x3DCCCCCD, -2.5e-7f = 0xB48637BD, 1.0f = 0x3F800000, little-endian (Python:
        // base64.b64encode(struct.pack("<3f", 0.1, -2.5e-7, 1.0))).
        #expect(b64 == "zczMPb03hrQAAIA/")
    }

    @Test func dimensionsOtherThanTheModelsAreRefused() throws {
        #expect(try parse(#"{"input":"a","dimensions":3}"#).response(response()).contains("\"embedding\""))
        #expect(throws: APIError.self) { try parse(#"{"input":"a","dimensions":2}"#).response(response()) }
        do { _ = try parse(#"{"input":"a","dimensions":2}"#).response(response()) } catch {
            #expect(error.status == 400 && error.param == "dimensions" && error.message.contains("3-dimensional"))
        }
    }

    @Test func errorsHaveOpenAIsShape() throws {
        let e = APIError(status: 404, "no such model", param: "model", code: "model_not_found")
        let json = try JSONValue.parse(ErrorBody.json(e, flavor: .openAI))
        #expect(json["error"]?["message"]?.string == "no such model")
        #expect(json["error"]?["type"]?.string == "invalid_request_error")
        #expect(json["error"]?["param"]?.string == "model" && json["error"]?["code"]?.string == "model_not_found")
        let server = try JSONValue.parse(ErrorBody.json(APIError(status: 503, "down"), flavor: .openAI))
        #expect(server["error"]?["type"]?.string == "server_error" && server["error"]?["param"]?.isNull == true)
        let tei = try JSONValue.parse(ErrorBody.json(APIError(status: 413, "too long"), flavor: .tei))
        #expect(tei["error"]?.string == "too long" && tei["error_type"]?.string == "Validation")
    }

    @Test func daemonStatusesMapToHTTP() {
        let expected: [(StatusCode, Int)] = [(.invalidArgument, 400), (.notFound, 404), (.resourceExhausted, 429), (.unavailable, 503),
                                             (.deadlineExceeded, 504), (.permissionDenied, 403), (.internal, 500), (.unimplemented, 501)]
        for (code, status) in expected { #expect(APIError.httpStatus(for: code) == status, "\(code)") }
        let notFound = Router.apiError(.rpc(.notFound, "no model 'x'"), call: EmbedCall(model: "x"), flavor: .openAI, socket: "/s")
        #expect(notFound.status == 404 && notFound.code == "model_not_found" && notFound.param == "model")
        let down = Router.apiError(.connect(path: "/s", .noSuchFile), call: EmbedCall(), flavor: .openAI, socket: "/s")
        #expect(down.status == 503)
        let long = Router.apiError(.rpc(.invalidArgument, "input has 900 tokens; model 'm' takes 256 and truncation is off (send it in parts, or allow truncation)"),
                                   call: EmbedCall(), flavor: .tei, socket: "/s")
        #expect(long.status == 413 && long.teiType == "Validation")
    }
}
