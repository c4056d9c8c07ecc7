@testable import EmbedStore
import EmbedSys
import Testing

/// Bring-your-own vectors: .npy (float32, 2-D) and .fvecs, keyed by row number or a keys file.
@Suite struct ImportTests {
    static func write(_ path: String, _ bytes: [UInt8]) throws {
        let fd = try FileDescriptor.open(path, [.writeOnly, .create, .truncate])
        defer { try? fd.close() }
        try fd.writeAll(bytes)
    }

    static func npy(rows: [[Float]], descr: String = "<f4", shape: String? = nil) -> [UInt8] {
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape ?? "(\(rows.count), \(rows.first?.count ?? 0))"), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)]
        out += Array(header.utf8)
        for r in rows { r.withUnsafeBytes { out += $0 } }
        return out
    }

    @Test func importsNPYAndFVecs() throws {
        let dir = TempDirectory("import")
        defer { dir.cleanup() }
        var gen = DataGen(seed: 8)
        let rows = gen.random(n: 50, dim: 6)
        try ImportTests.write(dir.path + "/v.npy", ImportTests.npy(rows: rows))
        var fvecs: [UInt8] = []
        for r in rows {
            withUnsafeBytes(of: Int32(6).littleEndian) { fvecs += $0 }
            r.withUnsafeBytes { fvecs += $0 }
        }
        try ImportTests.write(dir.path + "/v.fvecs", fvecs)
        try ImportTests.write(dir.path + "/keys.txt", Array((0..<50).map { "doc-\($0)\r\n" }.joined().utf8))
        let catalog = try StoreCatalog(directory: dir.path + "/store")
        let a = try catalog.create("a", config: CollectionConfig(dimension: 6, metric: .l2))
        #expect(try VectorImport.importVectors(into: a, vectorsPath: dir.path + "/v.npy", batchSize: 7) == 50)
        #expect(try a.get("49")?.vector == rows[49])
        let b = try catalog.create("b", config: CollectionConfig(dimension: 6, metric: .l2))
        try VectorImport.importVectors(into: b, vectorsPath: dir.path + "/v.fvecs", keysPath: dir.path + "/keys.txt")
        #expect(try b.get("doc-17")?.vector == rows[17])
        #expect(try b.search(rows[3], k: 1).first?.key == "doc-3")

        // Bad inputs name the problem.
        let c = try catalog.create("c", config: CollectionConfig(dimension: 5, metric: .l2))
        #expect(throws: StoreError.self) { try VectorImport.importVectors(into: c, vectorsPath: dir.path + "/v.npy") }
        try ImportTests.write(dir.path + "/f8.npy", ImportTests.npy(rows: [], descr: "<f8", shape: "(0, 6)"))
        #expect(throws: StoreError.self) { try VectorImport.readNPY(path: dir.path + "/f8.npy") }
        try ImportTests.write(dir.path + "/3d.npy", ImportTests.npy(rows: [], shape: "(1, 2, 3)"))
        #expect(throws: StoreError.self) { try VectorImport.readNPY(path: dir.path + "/3d.npy") }
        try ImportTests.write(dir.path + "/short.npy", Array(ImportTests.npy(rows: rows).dropLast(3)))
        #expect(throws: StoreError.self) { try VectorImport.readNPY(path: dir.path + "/short.npy") }
        try ImportTests.write(dir.path + "/bad.fvecs", Array(fvecs.dropLast(4)))
        #expect(throws: StoreError.self) { try VectorImport.readFVecs(path: dir.path + "/bad.fvecs") }
        try ImportTests.write(dir.path + "/few.txt", Array("x\ny\n".utf8))
        #expect(throws: StoreError.self) { try VectorImport.importVectors(into: a, vectorsPath: dir.path + "/v.npy", keysPath: dir.path + "/few.txt") }
        #expect(throws: StoreError.self) { try VectorImport.read(path: dir.path + "/keys.txt") }
        try catalog.closeAll()
    }
}
