import EmbedJSON
import EmbedSys

/// A safetensors file (Hugging Face's weight format) mapped read-only, header validated.
///
/// Layout: 8-byte little-endian header length N, N bytes of JSON header
/// (`{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}}`),
/// then the data section. Every entry is checked before use — known dtype, non-negative shape,
/// offsets inside the data section, byte size equal to shape × dtype, no overlaps — so a truncated
/// or malicious file gives an `NNError`, never an out-of-bounds read.
public final class SafeTensorsFile: @unchecked Sendable {
    // Invariant: `mapping` is immutable after init; all pointers handed out point inside it and
    // are validated against `dataCount`.
    /// The file's path, used in every error message.
    public let path: String
    /// The validated tensor entries, by name.
    public let tensors: [String: TensorInfo]
    private let mapping: ReadOnlyMapping
    private let dataStart: Int
    private let dataCount: Int

    /// Largest header accepted (the format's reference implementation uses 100 MB).
    static let maxHeaderBytes = 100 * 1024 * 1024

    /// Maps and validates `path`.
    public init(path: String) throws(NNError) {
        self.path = path
        do {
            mapping = try ReadOnlyMapping(path: path)
        } catch {
            throw NNError.file(path, "cannot open: \(error)")
        }
        let total = mapping.count
        guard total >= 8 else {
            throw NNError.file(path, "truncated safetensors file: \(total) bytes, less than the 8-byte header length")
        }
        let headerLength = mapping.withBytes { $0.loadUnaligned(as: UInt64.self).littleEndian }
        guard headerLength <= UInt64(Self.maxHeaderBytes) else {
            throw NNError.file(path, "safetensors header length \(headerLength) is larger than the 100 MB limit")
        }
        guard 8 + Int(headerLength) <= total else {
            throw NNError.file(path, "truncated safetensors file: header says \(headerLength) bytes but only \(total - 8) follow")
        }
        dataStart = 8 + Int(headerLength)
        dataCount = total - dataStart
        let header = try mapping.withBytes { raw in
            Result { () throws(NNError) in
                try JSONValue.parse(UnsafeRawBufferPointer(rebasing: raw[8..<(8 + Int(headerLength))]), name: path + " (safetensors header)")
            }
        }.get()
        tensors = try Self.validate(header: header, path: path, dataCount: dataCount)
    }

    private static func validate(header: JSONValue, path: String, dataCount: Int) throws(NNError) -> [String: TensorInfo] {
        guard let members = header.members else {
            throw NNError.file(path, "safetensors header is not a JSON object")
        }
        var result: [String: TensorInfo] = [:]
        for (name, entry) in members where name != "__metadata__" {
            func bad(_ problem: String) -> NNError { NNError.file(path, "tensor '\(name)': \(problem)") }
            guard let dtypeName = entry["dtype"]?.string else { throw bad("missing dtype") }
            guard let dtype = TensorDType(rawValue: dtypeName) else { throw bad("unsupported dtype \(dtypeName)") }
            guard let shapeValues = entry["shape"]?.array else { throw bad("missing shape") }
            var shape: [Int] = []
            var elements = 1
            for v in shapeValues {
                guard let d = v.int, d >= 0 else { throw bad("shape has a negative or non-integer dimension") }
                let (m, overflow) = elements.multipliedReportingOverflow(by: d)
                guard !overflow else { throw bad("shape \(shapeValues) overflows") }
                elements = m
                shape.append(d)
            }
            guard let offsets = entry["data_offsets"]?.array, offsets.count == 2,
                  let begin = offsets[0].int, let end = offsets[1].int else {
                throw bad("data_offsets must be two integers")
            }
            guard begin >= 0, begin <= end, end <= dataCount else {
                throw bad("data_offsets [\(begin), \(end)] lie outside the \(dataCount)-byte data section (truncated file?)")
            }
            let (bytes, overflow) = elements.multipliedReportingOverflow(by: dtype.size)
            guard !overflow, bytes == end - begin else {
                throw bad("data_offsets span \(end - begin) bytes but shape \(shape) of \(dtype.rawValue) needs \(elements * dtype.size)")
            }
            result[name] = TensorInfo(name: name, dtype: dtype, shape: shape, byteRange: begin..<end)
        }
        // Overlapping tensors would alias each other's data: refuse them.
        let sorted = result.values.sorted { $0.byteRange.lowerBound < $1.byteRange.lowerBound }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.byteRange.upperBound > b.byteRange.lowerBound {
            throw NNError.file(path, "tensors '\(a.name)' and '\(b.name)' overlap")
        }
        return result
    }

    /// The entry for `name`, or an error naming the file and the missing tensor.
    public func info(_ name: String) throws(NNError) -> TensorInfo {
        guard let t = tensors[name] else { throw NNError.file(path, "missing tensor '\(name)'") }
        return t
    }

    /// Whether the file holds a tensor called `name`.
    public func contains(_ name: String) -> Bool { tensors[name] != nil }

    /// The tensor `name` as fp32, checked against `shape` (nil: any shape). F32 data that is
    /// 4-byte aligned is returned without a copy; f16/bf16 are widened.
    public func floats(_ name: String, shape: [Int]? = nil) throws(NNError) -> FloatStorage {
        let t = try info(name)
        if let shape, shape != t.shape {
            throw NNError.file(path, "tensor '\(name)' has shape \(t.shape), expected \(shape)")
        }
        guard t.dtype.isFloat else {
            throw NNError.file(path, "tensor '\(name)' has dtype \(t.dtype.rawValue), expected F32, F16 or BF16")
        }
        let n = t.elementCount
        let start = mapping.baseAddress.map { $0 + dataStart + t.byteRange.lowerBound }
        if t.dtype == .f32, let start, Int(bitPattern: start) % 4 == 0 {
            return FloatStorage(view: start.assumingMemoryBound(to: Float.self), count: n, shape: t.shape, owner: self)
        }
        let out = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(n, 1))
        if let start {
            switch t.dtype {
            case .f32:
                for i in 0..<n { out[i] = Float(bitPattern: UInt32(littleEndian: start.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
            case .bf16:
                for i in 0..<n {
                    let bits = UInt16(littleEndian: start.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                    out[i] = Float(bitPattern: UInt32(bits) << 16)
                }
            case .f16:
                for i in 0..<n {
                    let bits = UInt16(littleEndian: start.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                    out[i] = Float(Float16(bitPattern: bits))
                }
            default: break
            }
        }
        return FloatStorage(adopting: UnsafeMutableBufferPointer(rebasing: out[0..<n]), shape: t.shape)
    }
}
