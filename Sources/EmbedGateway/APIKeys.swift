import EmbedSys

/// The bearer keys a TCP client must present (`Authorization: Bearer KEY`).
///
/// Read from a file of one key per line; blank lines and lines starting with `#` are ignored,
/// spaces around a key are trimmed. Checking compares against every key in time that does not
/// depend on where (or whether) a key matches, so the answer's timing says nothing about keys.
public struct APIKeys: Sendable {
    private let keys: [[UInt8]]

    public init(_ keys: [String]) { self.keys = keys.map { Array($0.utf8) } }

    public var count: Int { keys.count }

    /// Parses a keys file's text.
    /// - Throws: a message naming the line of a key with spaces or control characters inside.
    public static func parse(_ text: String, file: String) throws(APIError) -> APIKeys {
        var keys: [String] = []
        // Bytes, not Characters: "\r\n" is one Character and would not split at "\n".
        let blank: (UInt8) -> Bool = { $0 == 32 || $0 == 9 || $0 == 13 }
        for (i, raw) in text.utf8.split(separator: 10, omittingEmptySubsequences: false).enumerated() {
            var line = raw[...]
            while let f = line.first, blank(f) { line = line.dropFirst() }
            while let l = line.last, blank(l) { line = line.dropLast() }
            let key = String(decoding: line, as: UTF8.self)
            if key.isEmpty || key.hasPrefix("#") { continue }
            guard key.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F }) else {
                throw APIError(status: 500, "\(file):\(i + 1): a key must not contain spaces or control characters")
            }
            keys.append(key)
        }
        return APIKeys(keys)
    }

    /// Reads a keys file (at most 1 MiB).
    public static func load(path: String) throws(APIError) -> APIKeys {
        let bytes: [UInt8]
        do { bytes = try FileSystem.readFile(path, limit: 1 << 20) } catch {
            throw APIError(status: 500, "cannot read the API keys file \(path): \(error)")
        }
        return try parse(String(decoding: bytes, as: UTF8.self), file: path)
    }

    /// Whether `header` (an Authorization value) is `Bearer K` for one of the keys.
    public func accepts(authorization header: String?) -> Bool {
        guard let header else { return false }
        let bytes = Array(header.utf8)
        guard bytes.count > 7, String(decoding: bytes[0..<7], as: UTF8.self).lowercased() == "bearer " else { return false }
        var start = 7
        while start < bytes.count && bytes[start] == 32 { start += 1 }
        let presented = bytes[start...]
        var matched: UInt8 = 0
        for key in keys { matched |= Self.equalInConstantTime(presented, key) }
        return matched == 1
    }

    /// 1 if `a == b`, else 0, reading every byte of `b` (the key) whatever `a` holds.
    private static func equalInConstantTime(_ a: ArraySlice<UInt8>, _ b: [UInt8]) -> UInt8 {
        var diff: UInt8 = a.count == b.count ? 0 : 1
        let base = a.startIndex
        for i in 0..<b.count {
            let x = i < a.count ? a[base + i] : 0
            diff |= x ^ b[i]
        }
        // diff == 0 → 1, else 0, without a branch on the secret.
        return UInt8(truncatingIfNeeded: (UInt16(diff) &- 1) >> 8) & 1
    }
}
