/// One item of an Upsert: a key, `oneof value { input, vector }`, metadata (a JSON object).
///
/// Mirrors `message UpsertItem` in proto/embedd.proto. When a sender sets both members of the
/// oneof, the last one on the wire wins.
public struct UpsertItem: ProtoMessage {
    /// The member of `oneof value` that is set.
    public enum Value: Sendable, Equatable {
        /// Field 2: an input the collection's model embeds.
        case input(Input)
        /// Field 3: a ready vector.
        case vector(Vector)
    }

    /// Field 1 (`key`).
    public var key: String = ""
    /// Fields 2/3; nil when neither is set (the server rejects the item).
    public var value: Value? = nil
    /// Field 4 (`metadata`): a JSON object as text, or empty.
    public var metadata: String = ""

    /// Creates the empty message.
    public init() {}

    /// Creates the message.
    public init(key: String, value: Value?, metadata: String = "") {
        self.key = key
        self.value = value
        self.metadata = metadata
    }

    /// An item embedding `text` with the collection's model.
    public static func text(_ key: String, _ text: String, metadata: String = "") -> UpsertItem {
        UpsertItem(key: key, value: .input(.text(text)), metadata: metadata)
    }

    /// An item with a ready vector.
    public static func vector(_ key: String, _ values: [Float], metadata: String = "") -> UpsertItem {
        UpsertItem(key: key, value: .vector(Vector(values: values)), metadata: metadata)
    }

    public mutating func decodeField(_ field: Int, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        switch field {
        case 1: key = try reader.readString(field, type)
        case 2: value = .input(try reader.readMessage(field, type, as: Input.self))
        case 3: value = .vector(try reader.readMessage(field, type, as: Vector.self))
        case 4: metadata = try reader.readString(field, type)
        default: return false
        }
        return true
    }

    public func encode(to writer: inout ProtoWriter) {
        writer.string(1, key)
        switch value {
        case .none: break
        case .input(let i): writer.message(2, i)
        case .vector(let v): writer.message(3, v)
        }
        writer.string(4, metadata)
    }
}
