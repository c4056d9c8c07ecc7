import EmbedCLI
import EmbedSys
import Synchronization

/// Writes to stdout/stderr through EmbedSys (no Foundation).
enum Output {
    /// The first failed write to standard output (a full disk, a closed pipe): `main` turns it
    /// into exit status 1, so a script never takes a truncated JSON file for success.
    static let stdoutFailure = Mutex<Errno?>(nil)

    static func out(_ s: String) {
        do { try FileDescriptor.standardOutput.writeAll(Array(s.utf8)) } catch {
            stdoutFailure.withLock { $0 = $0 ?? error }
        }
    }
    static func outBytes(_ b: [UInt8]) throws(CLIError) {
        do { try FileDescriptor.standardOutput.writeAll(b) } catch { throw .runtime("cannot write to standard output: \(error)") }
    }
    static func err(_ s: String) { try? FileDescriptor.standardError.writeAll(Array(s.utf8)) }
}
