/// One query of a Search: `oneof query { input, vector }`.
///
/// Mirrors `message SearchQuery` in proto/embedd.proto. When a sender sets both members, the
/// last one on the wire wins.
public struct SearchQuery: ProtoMessage {
    /// The member of `oneof query` that is set.
    public enum Query: Sendable, Equatable {
        /// Field 1: an input embedded with the collection's model.
        case input(Input)
        /// Field 2: a ready vector.
        case vector(Vector)
    }

    /// nil when neither is set (the server rejects the query).
    public var query: Query? = nil

    /// Creates the empty message.
    public init() {}

    /// Creates the message.
    public init(_ query: Query?) { self.query = query }

    /// A query by text.
    public static func text(_ s: String) -> SearchQuery { SearchQuery(.input(.text(s))) }

    /// A query by vector.
    public static func vector(_ values: [Float]) -> SearchQuery { SearchQuery(.vector(Vector(values: values))) }

    public mutating func decodeField(_ field: Int, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        switch field {
        case 1: query = .input(try reader.readMessage(field, type, as: Input.self))
        case 2: query = .vector(try reader.readMessage(field, type, as: Vector.self))
        default: return false
        }
        return true
    }

    public func encode(to writer: inout ProtoWriter) {
        switch query {
        case .none: break
        case .input(let i): writer.message(1, i)
        case .vector(let v): writer.message(2, v)
        }
    }
}
