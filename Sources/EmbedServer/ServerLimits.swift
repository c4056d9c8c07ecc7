import EmbedConfig

/// The limits the event loop enforces, derived from `Limits` (and replaceable on reload).
struct ServerLimits: Sendable {
    var maxFrameBytes: Int
    var maxConnections: Int
    var maxConnectionsPerUID: Int
    var reservedConnections: Int
    var frameTimeoutNanos: UInt64
    var maxBufferedBytes: Int
    var maxDescriptorsPerCall: Int
    var maxCallsPerConnection: Int
    var maxInputsPerCall: Int
    var idleTimeoutNanos: UInt64
    var callDeadlineNanos: UInt64
    var drainTimeoutNanos: UInt64
    var busyPollNanos: UInt64

    init(_ l: Limits) {
        maxFrameBytes = l.maxFrameBytes
        maxConnections = l.maxConnections
        maxConnectionsPerUID = l.maxConnectionsPerUID
        reservedConnections = l.reservedConnections
        frameTimeoutNanos = UInt64(l.frameTimeoutSeconds * 1e9)
        maxBufferedBytes = l.maxBufferedBytes
        maxDescriptorsPerCall = l.maxDescriptorsPerCall
        maxCallsPerConnection = l.maxCallsPerConnection
        maxInputsPerCall = l.maxInputsPerCall
        idleTimeoutNanos = UInt64(l.idleTimeoutSeconds * 1e9)
        callDeadlineNanos = UInt64(l.callDeadlineSeconds * 1e9)
        drainTimeoutNanos = UInt64(l.drainTimeoutSeconds * 1e9)
        busyPollNanos = UInt64(l.busyPollSeconds * 1e9)
    }
}
