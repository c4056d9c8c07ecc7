import EmbedClient
import EmbedSys
import Foundation
import Testing

/// Rough edges a first day with embedd found (issue 25), each pinned by a test.
struct NewUserTests {
    /// `--socket` pointing at a directory or a regular file says so, instead of "embedd is not
    /// running" (connect(2) answers ECONNREFUSED for both).
    @Test func aSocketPathThatIsNoSocketIsNamedForWhatItIs() throws {
        let dir = try FileSystem.makeTemporaryDirectory(template: "/tmp/embedd-newuser.XXXXXX")
        defer { _ = try? runProgram("/bin/rm", ["-rf", dir]) }
        let file = dir + "/regular"
        try "x".write(toFile: file, atomically: true, encoding: .utf8)

        let onDir = try runProgram(Products.embedctl, ["--socket", dir, "status"])
        #expect(onDir.status != 0)
        #expect(onDir.stderr.contains("it is a directory, not embedd's socket"), "\(onDir.stderr)")
        #expect(!onDir.stderr.contains("not running"), "\(onDir.stderr)")

        let onFile = try runProgram(Products.embedctl, ["--socket", file, "status"])
        #expect(onFile.status != 0)
        #expect(onFile.stderr.contains("it is a regular file, not a socket"), "\(onFile.stderr)")

        // A socket file nobody listens on is still "not running".
        let stale = dir + "/stale.sock"
        let listener = try UnixSocket.listen(path: stale)
        try listener.close()
        let onStale = try runProgram(Products.embedctl, ["--socket", stale, "status"])
        #expect(onStale.stderr.contains("connection refused (embedd is not running)"), "\(onStale.stderr)")
    }
}
