import EmbedSys

/// Writes to stdout/stderr through EmbedSys (no Foundation).
enum Output {
    static func out(_ s: String) { try? FileDescriptor.standardOutput.writeAll(Array(s.utf8)) }
    static func outBytes(_ b: [UInt8]) throws(CLIError) {
        do { try FileDescriptor.standardOutput.writeAll(b) } catch { throw .runtime("cannot write to standard output: \(error)") }
    }
    static func err(_ s: String) { try? FileDescriptor.standardError.writeAll(Array(s.utf8)) }
}
