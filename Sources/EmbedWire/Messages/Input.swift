/// One input of an Embed call: `oneof kind { text, media, pixels, audio, file }`.
///
/// Mirrors `message Input` in proto/embedd.proto. When a sender sets several members of the
/// oneof, the last one on the wire wins, as in every protobuf implementation.
public struct Input: ProtoMessage {
    /// The member of the oneof that is set.
    public enum Kind: Sendable, Equatable {
        /// Field 1: UTF-8 text.
        case text(String)
        /// Field 2: encoded media bytes.
        case media(Media)
        /// Field 3: decoded RGB8 pixels.
        case pixels(Pixels)
        /// Field 4: decoded PCM audio.
        case audio(Audio)
        /// Field 5: a file passed as a descriptor with the frame (`SCM_RIGHTS`).
        case file(FileRef)
    }

    /// nil when no member is set (the server rejects such an input).
    public var kind: Kind?

    /// Creates an input with no member set.
    public init() {}

    /// Creates an input.
    public init(_ kind: Kind) { self.kind = kind }

    /// A text input.
    public static func text(_ s: String) -> Input { Input(.text(s)) }

    public mutating func decodeField(_ field: Int, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        switch field {
        case 1: kind = .text(try reader.readString(field, type))
        case 2: kind = .media(try reader.readMessage(field, type, as: Media.self))
        case 3: kind = .pixels(try reader.readMessage(field, type, as: Pixels.self))
        case 4: kind = .audio(try reader.readMessage(field, type, as: Audio.self))
        case 5: kind = .file(try reader.readMessage(field, type, as: FileRef.self))
        default: return false
        }
        return true
    }

    public func encode(to writer: inout ProtoWriter) {
        switch kind {
        case .none: break
        // A oneof member is written even when it holds the default value: presence matters.
        case .text(let s): writer.repeatedStringElement(1, s)
        case .media(let m): writer.message(2, m)
        case .pixels(let p): writer.message(3, p)
        case .audio(let a): writer.message(4, a)
        case .file(let f): writer.message(5, f)
        }
    }
}
