import EmbedWire

/// Typed calls for collection mirrors (ids 44–47, protocol 1.3; docs/milvus.md, "Mirror").
extension EmbedClient {
    /// Whether the daemon speaks protocol 1.3 (Changes and mirrors).
    public var supportsMirrors: Bool { (serverHello.major, serverHello.minor) >= (1, 3) }

    private func requireMirrors(_ call: String) throws(ClientError) {
        guard supportsMirrors else {
            throw .rpc(.unimplemented, "\(call) needs protocol 1.3; the daemon speaks \(serverHello.major).\(serverHello.minor) (upgrade embedd)")
        }
    }

    /// The acknowledged writes after `after` (whole writes, about `limit` records).
    public func changes(_ collection: String, after: UInt64, limit: Int = 0) throws(ClientError) -> ChangesResponse {
        try requireMirrors("Changes")
        return try call(.changes, ChangesRequest(collection: collection, afterSequence: after, limit: UInt32(clamping: limit)),
                        as: ChangesResponse.self)
    }

    /// Registers (`.register`), resets (`.reset`) or removes (`.remove`) a mirror.
    public func setMirror(_ collection: String, target: String, prefix: String = "", action: MirrorAction) throws(ClientError) -> MirrorInfo? {
        try requireMirrors("SetMirror")
        let r = try call(.setMirror, SetMirrorRequest(collection: collection, target: target, prefix: prefix, action: action),
                         as: SetMirrorResponse.self)
        return r.mirror
    }

    /// Moves a mirror's cursor forward to `sequence`.
    public func ackMirror(_ collection: String, target: String, sequence: UInt64) throws(ClientError) -> MirrorInfo {
        try requireMirrors("AckMirror")
        return try call(.ackMirror, AckMirrorRequest(collection: collection, target: target, sequence: sequence),
                        as: AckMirrorResponse.self).mirror ?? MirrorInfo()
    }

    /// A collection's mirrors with their lag.
    public func mirrors(_ collection: String) throws(ClientError) -> [MirrorInfo] {
        try requireMirrors("ListMirrors")
        return try call(.listMirrors, ListMirrorsRequest(collection: collection), as: ListMirrorsResponse.self).mirrors
    }
}
