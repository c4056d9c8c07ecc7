import EmbedCLI

/// A matrix of float32 rows read from a NumPy `.npy` file (`add --npy`, `search --npy`).
///
/// Accepts format versions 1–3, C order, dtype float32 (`<f4`, `>f4`) or float64 (`<f8`, `>f8`,
/// converted), shape `(rows, columns)`, or `(columns,)` as one row. Anything else is refused
/// with a message that says what the file holds and what is needed.
struct NPYMatrix {
    var rows: Int
    var columns: Int
    /// Row-major, rows × columns.
    var values: [Float]

    func row(_ r: Int) -> [Float] { Array(values[(r * columns)..<((r + 1) * columns)]) }

    static func decode(_ bytes: [UInt8], name: String) throws(CLIError) -> NPYMatrix {
        func bad(_ m: String) -> CLIError { .runtime("\(name): \(m)") }
        let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else { throw bad("not a .npy file (no \\x93NUMPY magic)") }
        let major = bytes[6]
        var headerStart = 10
        var headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        switch major {
        case 1: break
        case 2, 3:
            guard bytes.count >= 12 else { throw bad("truncated header") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        default: throw bad("unsupported .npy format version \(major)")
        }
        guard headerStart + headerLength <= bytes.count else { throw bad("truncated header") }
        let header = String(decoding: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self)
        guard let descr = field(header, "descr"), descr.hasPrefix("'") || descr.hasPrefix("\"") else { throw bad("header has no 'descr'") }
        let dtype = String(descr.dropFirst().prefix { $0 != "'" && $0 != "\"" })
        guard let order = field(header, "fortran_order") else { throw bad("header has no 'fortran_order'") }
        if order.hasPrefix("True") { throw bad("Fortran-ordered arrays are not supported (save with numpy.ascontiguousarray)") }
        guard let shapeText = field(header, "shape"), shapeText.hasPrefix("("), let close = shapeText.firstIndex(of: ")") else {
            throw bad("header has no 'shape'")
        }
        let dims = shapeText[shapeText.index(after: shapeText.startIndex)..<close]
            .split(separator: ",").map { $0.trimmingSpaces }.filter { !$0.isEmpty }
        var shape: [Int] = []
        for d in dims {
            guard let v = Int(d), v >= 0 else { throw bad("bad shape \(shapeText[...close])") }
            shape.append(v)
        }
        let rows: Int, columns: Int
        switch shape.count {
        case 1: (rows, columns) = (1, shape[0])
        case 2: (rows, columns) = (shape[0], shape[1])
        default: throw bad("expected a 2-D array (rows, dim), got shape \(shapeText[...close])")
        }
        guard columns > 0 else { throw bad("rows have no columns (shape \(shapeText[...close]))") }
        let width: Int
        let bigEndian: Bool
        switch dtype {
        case "<f4", "=f4": (width, bigEndian) = (4, false)
        case ">f4": (width, bigEndian) = (4, true)
        case "<f8", "=f8": (width, bigEndian) = (8, false)
        case ">f8": (width, bigEndian) = (8, true)
        default: throw bad("dtype \(dtype) is not supported (need float32 '<f4' or float64 '<f8')")
        }
        let dataStart = headerStart + headerLength
        let (count, overflow) = rows.multipliedReportingOverflow(by: columns)
        guard !overflow, count <= (bytes.count - dataStart) / width, bytes.count - dataStart == count * width else {
            throw bad("holds \(bytes.count - dataStart) data bytes, shape \(shapeText[...close]) of \(dtype) needs \(count &* width)")
        }
        var values = [Float](repeating: 0, count: count)
        for k in 0..<count {
            let o = dataStart + k * width
            var bits: UInt64 = 0
            for b in 0..<width {
                let byte = UInt64(bytes[o + (bigEndian ? width - 1 - b : b)])
                bits |= byte << (8 * UInt64(b))
            }
            let f = width == 4 ? Float(bitPattern: UInt32(truncatingIfNeeded: bits)) : Float(Double(bitPattern: bits))
            guard f.isFinite else { throw bad("row \(k / columns), column \(k % columns) is not a finite float32 (\(f))") }
            values[k] = f
        }
        return NPYMatrix(rows: rows, columns: columns, values: values)
    }

    /// The text after `'name':` in the header dictionary, with leading spaces removed.
    private static func field(_ header: String, _ name: String) -> Substring? {
        for quote in ["'", "\""] {
            if let r = header.firstRange(of: "\(quote)\(name)\(quote)") {
                var rest = header[r.upperBound...].drop { $0 == " " }
                guard rest.first == ":" else { continue }
                rest = rest.dropFirst().drop { $0 == " " }
                return rest
            }
        }
        return nil
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var s = self
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return s
    }
}
