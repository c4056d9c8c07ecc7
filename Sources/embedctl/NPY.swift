/// Writes a float32 matrix in NumPy's .npy format (version 1.0), for `embed --format npy`:
/// `numpy.load` reads it as an (n, dim) array. `encode(rows:columns:values: [])` is the header
/// alone, for rows written as they come.
enum NPY {
    static func encode(rows: Int, columns: Int, values: [Float]) -> [UInt8] {
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(rows), \(columns)), }"
        // Magic (6) + version (2) + header length (2) + header, padded with spaces so the data
        // starts on a 64-byte boundary, and ended by a newline.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        let len = UInt16(header.utf8.count)
        out += [UInt8(len & 0xFF), UInt8(len >> 8)]
        out += Array(header.utf8)
        return out + row(values)
    }

    /// Float32 values, little-endian: rows of the array that follow its header.
    static func row(_ values: [Float]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(values.count * 4)
        for v in values {
            let b = v.bitPattern
            out += [UInt8(b & 0xFF), UInt8((b >> 8) & 0xFF), UInt8((b >> 16) & 0xFF), UInt8(b >> 24)]
        }
        return out
    }
}
