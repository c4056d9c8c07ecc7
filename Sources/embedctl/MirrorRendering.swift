import EmbedWire

/// Text and JSON of a collection's mirrors and their lag (`collection describe`,
/// `collection mirror --status`).
enum MirrorRendering {
    static func mirrorJSON(_ m: MirrorInfo, indent: String) -> String {
        JSON.object([
            ("target", JSON.string(m.target)), ("prefix", JSON.string(m.prefix)), ("sequence", String(m.sequence)),
            ("last_sequence", String(m.lastSequence)), ("lag_records", String(m.lagRecords)),
            ("lag_seconds", seconds(m.lagSeconds)), ("stale", m.stale ? "true" : "false"),
            ("registered_unix_ms", String(m.registeredUnixMs)), ("acked_unix_ms", String(m.ackedUnixMs)),
        ], indent: indent)
    }

    static func seconds(_ s: Double) -> String {
        let ms = Int((s * 1000).rounded())
        let frac = ms % 1000
        return "\(ms / 1000)." + (frac < 10 ? "00" : frac < 100 ? "0" : "") + "\(frac)"
    }

    /// One line per mirror: where it stands and how far behind.
    static func line(_ m: MirrorInfo) -> String {
        let prefix = m.prefix.isEmpty ? "" : " (prefix \(m.prefix))"
        if m.stale {
            return "\(m.target)\(prefix): STALE at sequence \(m.sequence) of \(m.lastSequence): the log it needs is gone; export again, then `embedctl collection mirror … --reset`"
        }
        return "\(m.target)\(prefix): sequence \(m.sequence) of \(m.lastSequence), \(m.lagRecords) records and \(seconds(m.lagSeconds)) s behind"
    }

    /// Lines for `describeText`.
    static func describeLines(_ c: CollectionInfo) -> [(String, String)] {
        guard !c.mirrors.isEmpty else { return [] }
        var lines = c.mirrors.map { ("mirror", line($0)) }
        lines.append(("mirror lag", "\(c.mirrorLagRecords) records, \(seconds(c.mirrorLagSeconds)) s (log kept for mirrors: \(StoreRendering.bytes(c.mirrorRetainedBytes)))"))
        return lines
    }

    /// Keys for `collectionJSON`.
    static func jsonPairs(_ c: CollectionInfo, indent: String) -> [(String, String)] {
        guard !c.mirrors.isEmpty else { return [] }
        return [("mirrors", JSON.array(c.mirrors.map { mirrorJSON($0, indent: indent + "  ") })),
                ("mirror_lag_records", String(c.mirrorLagRecords)), ("mirror_lag_seconds", seconds(c.mirrorLagSeconds)),
                ("mirror_retained_bytes", String(c.mirrorRetainedBytes))]
    }
}
