import Testing
@testable import EmbedSys

@Suite struct FileDescriptorTests {
    @Test func writeReadRoundTripAndErrors() throws {
        let dir = "/tmp/embedsys-fd-\(UInt32.random(in: 0...UInt32.max))"
        try FileSystem.makeDirectories(dir + "/a/b")
        #expect(FileSystem.isDirectory(dir + "/a/b"))
        let path = dir + "/a/b/f"
        let fd = try FileDescriptor.open(path, [.readWrite, .create, .exclusive])
        try fd.writeAll(Array("hello world".utf8))
        try fd.sync()
        #expect(try fd.fileSize() == 11)
        var buf = [UInt8](repeating: 0, count: 5)
        let n = try buf.withUnsafeMutableBytes { try fd.read(fromAbsoluteOffset: 6, into: $0) }
        #expect(n == 5 && String(decoding: buf, as: UTF8.self) == "world")
        try fd.close()
        #expect(try FileSystem.readFile(path) == Array("hello world".utf8))
        #expect(throws: Errno.fileExists) { try FileDescriptor.open(path, [.readWrite, .create, .exclusive]) }
        #expect(throws: Errno.noSuchFile) { try FileDescriptor.open(dir + "/missing", .readOnly) }
        #expect(Errno.noSuchFile.description.contains("No such file"))
        #expect(try FileSystem.contentsOfDirectory(dir + "/a/b") == ["f"])
        try FileSystem.unlink(path)
        try FileSystem.removeDirectory(dir + "/a/b"); try FileSystem.removeDirectory(dir + "/a"); try FileSystem.removeDirectory(dir)
    }
}
