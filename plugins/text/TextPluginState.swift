import CEmbedABI

/// The plugin-lifetime state behind `init`/`finalize`: the host's log callback.
final class TextPluginState {
    let host: embedd_host_api

    init(host: embedd_host_api) { self.host = host }

    /// Sends one line to the host's log (syslog priority `level`).
    func log(_ level: embedd_log_level, _ message: String) {
        guard let log = host.log else { return }
        message.withCString { log(host.host_context, Int32(level.rawValue), $0) }
    }
}
