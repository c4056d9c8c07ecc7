import CEmbedABI

/// The plugin's copy of the host API given to `init`, and the services it offers: the log, and
/// (ABI 1.1, `HostComposition.swift`) embedding with another model the host has loaded.
///
/// Sendable: the ABI makes `log` thread-safe and keeps it and `host_context` valid until
/// `finalize` returns, which outlives every model and call of the plugin.
package struct PluginHost: @unchecked Sendable {
    /// The fields the host declared; fields past its `struct_size` are zero.
    package let api: embedd_host_api

    /// Copies only the fields the host declared (`struct_size`), per the ABI's growth rule: an
    /// older host's smaller struct leaves the newer fields zero (NULL callbacks), and a newer
    /// host's larger one is cut to the fields this plugin knows.
    package init(copying host: UnsafePointer<embedd_host_api>) {
        var api = embedd_host_api()
        withUnsafeMutableBytes(of: &api) { dst in
            let n = min(Int(host.pointee.struct_size), dst.count)
            dst.copyMemory(from: UnsafeRawBufferPointer(start: host, count: n))
        }
        self.api = api
    }

    /// Sends one line to the host's log (syslog priority `level`); a no-op without a callback.
    package func log(_ level: embedd_log_level, _ message: String) {
        guard let log = api.log else { return }
        message.withCString { log(api.host_context, Int32(level.rawValue), $0) }
    }
}
