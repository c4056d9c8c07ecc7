import EmbedSys
import Testing

@Suite struct MappedRegionTests {
    @Test func anonymousRegionIsZeroedAndWritable() throws {
        let r = try MappedRegion(capacity: 1 << 20)
        #expect(r.capacity % MappedRegion.pageSize == 0)
        #expect(r.base.load(fromByteOffset: 12344, as: UInt64.self) == 0)
        r.base.storeBytes(of: 42, toByteOffset: (1 << 20) - 8, as: UInt64.self)
        #expect(r.base.load(fromByteOffset: (1 << 20) - 8, as: UInt64.self) == 42)
    }

    @Test func fileFrontIsPrivateCopyOnWrite() throws {
        let path = "/tmp/embedsys-mapped-\(Environment.processID)"
        let fd = try FileDescriptor.open(path, [.readWrite, .create, .truncate])
        defer { try? fd.close(); try? FileSystem.unlink(path) }
        let page = MappedRegion.pageSize
        var bytes = [UInt8](repeating: 0, count: 2 * page)
        for i in 0..<bytes.count { bytes[i] = UInt8(i % 251) }
        try fd.writeAll(bytes)
        let r = try MappedRegion(capacity: 8 * page, file: fd, offset: Int64(page), length: 100)
        #expect(r.fileBackedBytes == 100)
        #expect(r.base.load(as: UInt8.self) == UInt8(page % 251))
        r.base.storeBytes(of: 7, as: UInt8.self)              // private: the file keeps its byte
        r.base.storeBytes(of: 9, toByteOffset: 5 * page, as: UInt8.self)  // anonymous tail
        var check = [UInt8](repeating: 0, count: 1)
        _ = try check.withUnsafeMutableBytes { try fd.read(fromAbsoluteOffset: Int64(page), into: $0) }
        #expect(check[0] == UInt8(page % 251))
        #expect(throws: Errno.self) { try MappedRegion(capacity: page, file: fd, offset: 3, length: 10) }
    }
}
