import CEmbedABI

/// A failure the kit turns into an ABI status code and a message in the host's error buffer:
/// a whole `load_model` or `embed` call that fails (per-input failures go through
/// `EmbedBatch.fail` instead).
package struct PluginError: Error {
    /// The `embedd_status` returned to the host.
    package var status: embedd_status
    /// The message copied (truncated to the host's capacity) into its error buffer.
    package var message: String

    package init(_ status: embedd_status, _ message: String) {
        self.status = status
        self.message = message
    }

    /// The call saw the cancellation flag (`EMBEDD_ERR_CANCELLED`, "cancelled").
    package static var cancelled: PluginError { PluginError(EMBEDD_ERR_CANCELLED, "cancelled") }
}

/// Copies `message` into a host buffer of `capacity` bytes, truncated and NUL-terminated
/// (`embedd_copy_message`); does nothing for a NULL buffer or zero capacity.
package func copyMessage(_ message: String, into buffer: UnsafeMutablePointer<CChar>?, capacity: Int) {
    guard let buffer, capacity > 0 else { return }
    message.withCString { embedd_copy_message(buffer, capacity, $0) }
}

extension embedd_status {
    /// The status as the ABI's `int32_t` return value.
    var code: Int32 { Int32(rawValue) }
}
