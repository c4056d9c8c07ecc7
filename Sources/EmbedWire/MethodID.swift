/// Method ids of `service Embedd` in proto/embedd.proto; carried in every REQUEST header.
///
/// A struct over the raw value so that servers can answer UNIMPLEMENTED for ids they do not
/// know instead of failing to decode the frame. The constants (`.health`, `.search`, ...) are
/// generated from the .proto's `// id N` annotations into MethodID.generated.swift.
public struct MethodID: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// The rpc name from the .proto, or `method-N` for ids it does not define.
    public var description: String { Self.rpcNames[rawValue] ?? "method-\(rawValue)" }
}
