import EmbedJSON

/// Which API's error shape a route answers with.
public enum APIFlavor: Sendable {
    case openAI, tei
}

/// An `APIError` as a JSON body.
enum ErrorBody {
    static func json(_ error: APIError, flavor: APIFlavor) -> String {
        switch flavor {
        case .openAI:
            JSONWriter.compact(.object([("error", .object([
                ("message", .string(error.message)),
                ("type", .string(error.type)),
                ("param", error.param.map(JSONValue.string) ?? .null),
                ("code", error.code.map(JSONValue.string) ?? .null),
            ]))]))
        case .tei:
            JSONWriter.compact(.object([("error", .string(error.message)), ("error_type", .string(error.teiType))]))
        }
    }
}
