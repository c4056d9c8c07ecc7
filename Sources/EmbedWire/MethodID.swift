/// Method ids of `service Embedd` in proto/embedd.proto; carried in every REQUEST header.
///
/// A struct over the raw value so that servers can answer UNIMPLEMENTED for ids they do not
/// know instead of failing to decode the frame.
public struct MethodID: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let health = MethodID(rawValue: 1)
    public static let status = MethodID(rawValue: 2)
    public static let listModels = MethodID(rawValue: 3)
    public static let listPlugins = MethodID(rawValue: 4)
    public static let embed = MethodID(rawValue: 5)

    // Admin methods.
    public static let loadPlugin = MethodID(rawValue: 16)
    public static let reloadPlugin = MethodID(rawValue: 17)
    public static let unloadModel = MethodID(rawValue: 18)
    public static let loadModel = MethodID(rawValue: 19)

    // Reserved for the vector store (serving issue).
    public static let createCollection = MethodID(rawValue: 32)
    public static let dropCollection = MethodID(rawValue: 33)
    public static let listCollections = MethodID(rawValue: 34)
    public static let describeCollection = MethodID(rawValue: 35)
    public static let upsert = MethodID(rawValue: 36)
    public static let search = MethodID(rawValue: 37)
    public static let get = MethodID(rawValue: 38)
    public static let delete = MethodID(rawValue: 39)
    public static let count = MethodID(rawValue: 40)
    public static let stats = MethodID(rawValue: 41)
    /// Since protocol 1.1.
    public static let optimizeCollection = MethodID(rawValue: 42)

    private static let names: [UInt16: String] = [
        1: "Health", 2: "Status", 3: "ListModels", 4: "ListPlugins", 5: "Embed",
        16: "LoadPlugin", 17: "ReloadPlugin", 18: "UnloadModel", 19: "LoadModel",
        32: "CreateCollection", 33: "DropCollection", 34: "ListCollections", 35: "DescribeCollection",
        36: "Upsert", 37: "Search", 38: "Get", 39: "Delete", 40: "Count", 41: "Stats",
        42: "OptimizeCollection",
    ]

    /// The rpc name from the .proto, or `method-N` for ids it does not define.
    public var description: String { Self.names[rawValue] ?? "method-\(rawValue)" }
}
