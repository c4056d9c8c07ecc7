extension Frame {
    /// Flag bit 1: open file descriptors (`SCM_RIGHTS`) were sent with this REQUEST frame's
    /// first byte; `FileRef.index` counts among them. Clients send every descriptor of a frame
    /// with one `sendmsg`; the server takes one received batch per flagged frame, in order
    /// (docs/protocol.md, "Passing files").
    public static let descriptors: UInt8 = 2

    /// Whether the DESCRIPTORS flag is set.
    public var carriesDescriptors: Bool { flags & Frame.descriptors != 0 }
}
