import EmbedSys

/// Reads raw vectors the way people bring their own: NumPy `.npy` (float32, 2-D, C order)
/// and `.fvecs` (per row: Int32 dimension, then that many float32).
public enum VectorImport {
    /// Vectors read from a file: `rows × dimension` floats, row-major.
    public struct Matrix: Sendable {
        public var rows: Int
        public var dimension: Int
        public var values: [Float]

        /// Row `i` as an array.
        public func row(_ i: Int) -> [Float] { Array(values[(i * dimension)..<((i + 1) * dimension)]) }
    }

    /// Reads `.npy` or `.fvecs` by extension.
    public static func read(path: String) throws(StoreError) -> Matrix {
        if path.hasSuffix(".npy") { return try readNPY(path: path) }
        if path.hasSuffix(".fvecs") { return try readFVecs(path: path) }
        throw .invalidArgument("\(path): unknown vector file type (expected .npy or .fvecs)")
    }

    /// Reads a float32 2-D `.npy` file (format versions 1–3, little-endian, C order).
    public static func readNPY(path: String) throws(StoreError) -> Matrix {
        let bytes = try io(path, "read") { () throws(Errno) in try FileSystem.readFile(path) }
        func bad(_ d: String) -> StoreError { .invalidArgument("\(path): \(d)") }
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1..<6]) == Array("NUMPY".utf8) else { throw bad("not a .npy file") }
        let major = bytes[6]
        let headerLength: Int, start: Int
        if major == 1 {
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            start = 10
        } else if major == 2 || major == 3 {
            guard bytes.count >= 12 else { throw bad("truncated header") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            start = 12
        } else { throw bad("unsupported .npy version \(major)") }
        guard start + headerLength <= bytes.count else { throw bad("truncated header") }
        let header = String(decoding: bytes[start..<(start + headerLength)], as: UTF8.self)
        let compact = header.filter { $0 != " " }
        guard compact.contains("'descr':'<f4'") else { throw bad("dtype must be little-endian float32 ('<f4'); header: \(header)") }
        guard compact.contains("'fortran_order':False") else { throw bad("Fortran-ordered arrays are not supported") }
        guard let shapeStart = compact.firstRange(of: "'shape':("), let shapeEnd = compact[shapeStart.upperBound...].firstIndex(of: ")") else {
            throw bad("no shape in header")
        }
        let dims = compact[shapeStart.upperBound..<shapeEnd].split(separator: ",").compactMap { Int($0) }
        guard dims.count == 2, dims[0] >= 0, dims[1] > 0 else { throw bad("array must be 2-D, shape is (\(compact[shapeStart.upperBound..<shapeEnd]))") }
        let dataStart = start + headerLength
        let expected = dims[0] * dims[1] * 4
        guard bytes.count - dataStart == expected else {
            throw bad("data is \(bytes.count - dataStart) bytes, shape (\(dims[0]), \(dims[1])) needs \(expected)")
        }
        let values = bytes.withUnsafeBytes { raw in
            (0..<(dims[0] * dims[1])).map { raw.loadUnaligned(fromByteOffset: dataStart + $0 * 4, as: Float.self) }
        }
        return Matrix(rows: dims[0], dimension: dims[1], values: values)
    }

    /// Reads an `.fvecs` file; every row must have the same dimension.
    public static func readFVecs(path: String) throws(StoreError) -> Matrix {
        let bytes = try io(path, "read") { () throws(Errno) in try FileSystem.readFile(path) }
        func bad(_ d: String) -> StoreError { .invalidArgument("\(path): \(d)") }
        guard bytes.count >= 4 else { throw bad("empty .fvecs file") }
        return try withBytes(of: bytes) { raw throws(StoreError) in
            let dim = Int(raw.loadUnaligned(as: Int32.self))
            guard dim > 0, dim <= 65536 else { throw bad("first row has dimension \(dim)") }
            let rowBytes = 4 + 4 * dim
            guard bytes.count % rowBytes == 0 else { throw bad("size \(bytes.count) is not a multiple of the row size \(rowBytes)") }
            let rows = bytes.count / rowBytes
            var values = [Float]()
            values.reserveCapacity(rows * dim)
            for r in 0..<rows {
                let d = Int(raw.loadUnaligned(fromByteOffset: r * rowBytes, as: Int32.self))
                guard d == dim else { throw bad("row \(r) has dimension \(d), expected \(dim)") }
                for j in 0..<dim { values.append(raw.loadUnaligned(fromByteOffset: r * rowBytes + 4 + 4 * j, as: Float.self)) }
            }
            return Matrix(rows: rows, dimension: dim, values: values)
        }
    }

    /// Reads one key per line (UTF-8, `\n` or `\r\n`); blank lines are errors.
    public static func readKeys(path: String) throws(StoreError) -> [String] {
        let bytes = try io(path, "read") { () throws(Errno) in try FileSystem.readFile(path) }
        var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { line in
            String(decoding: line.last == UInt8(ascii: "\r") ? line.dropLast() : line, as: UTF8.self)
        }
        if lines.last == "" { lines.removeLast() }
        if let i = lines.firstIndex(of: "") { throw .invalidArgument("\(path): line \(i + 1) is empty") }
        return lines
    }

    /// Upserts every row of `vectorsPath` into `collection`, keyed by row number ("0", "1", …)
    /// or by the lines of `keysPath`, in batches; returns the number of rows.
    @discardableResult
    public static func importVectors(into collection: VectorCollection, vectorsPath: String, keysPath: String? = nil,
                                     batchSize: Int = 1000) throws(StoreError) -> Int {
        let m = try read(path: vectorsPath)
        guard m.dimension == collection.config.dimension else {
            throw .invalidArgument("\(vectorsPath) has dimension \(m.dimension), collection '\(collection.name)' has \(collection.config.dimension)")
        }
        let keys = try keysPath.map { p throws(StoreError) in try readKeys(path: p) } ?? (0..<m.rows).map(String.init)
        guard keys.count == m.rows else { throw .invalidArgument("\(keysPath ?? ""): \(keys.count) keys for \(m.rows) vectors") }
        var start = 0
        while start < m.rows {
            let end = min(m.rows, start + max(1, batchSize))
            try collection.upsert((start..<end).map { Record(key: keys[$0], vector: m.row($0)) })
            start = end
        }
        return m.rows
    }
}
