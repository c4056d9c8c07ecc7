/// Why an image could not be decoded. Every case names the problem in words a user can act on
/// (`description`); decoders never trap on hostile input, they throw one of these.
public enum MediaError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Zero bytes were given.
    case emptyInput
    /// The encoded input is larger than `ImageLimits.maxBytes`.
    case tooManyBytes(count: Int, limit: Int)
    /// The header declares more pixels than `ImageLimits.maxPixels` (found before allocating).
    case tooManyPixels(width: Int, height: Int, limit: Int)
    /// The content is none of the supported formats. `declared` is the caller's MIME hint,
    /// `prefix` the first bytes (at most 8), shown in the message.
    case unrecognized(declared: String?, prefix: [UInt8])
    /// The data ends before the image does (a cut download, a partial write).
    case truncated(ImageFormat, detail: String)
    /// The data is damaged or malformed; `detail` is the decoding library's own message.
    case corrupt(ImageFormat, detail: String)
    /// A valid file using a feature this decoder does not handle (e.g. 12-bit JPEG).
    case unsupported(ImageFormat, detail: String)

    public var description: String {
        switch self {
        case .emptyInput:
            return "empty input: zero bytes is not an image"
        case .tooManyBytes(let count, let limit):
            return "image file is \(count) bytes; the limit is \(limit)"
        case .tooManyPixels(let width, let height, let limit):
            let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
            let count = overflow ? "more than \(Int.max)" : "\(pixels)"
            return "image is \(width)×\(height) (\(count) pixels); the limit is \(limit)"
        case .unrecognized(let declared, let prefix):
            let what = Self.describe(prefix: prefix)
            if let declared, !declared.isEmpty {
                return "declared \(declared) but not a JPEG, PNG or WebP image (\(what))"
            }
            return "not a JPEG, PNG or WebP image (\(what))"
        case .truncated(let format, let detail):
            return "truncated \(format) image: \(detail)"
        case .corrupt(let format, let detail):
            return "corrupt \(format) image: \(detail)"
        case .unsupported(let format, let detail):
            return "unsupported \(format) image: \(detail)"
        }
    }

    /// "starts with "hello wo"" for text, hex otherwise, and the name of a few well-known
    /// formats we do not decode so the user knows what they sent.
    static func describe(prefix: [UInt8]) -> String {
        let p = Array(prefix.prefix(8))
        func starts(_ s: [UInt8]) -> Bool { p.count >= s.count && Array(p[0..<s.count]) == s }
        let known: String?
        if starts(Array("GIF8".utf8)) { known = "a GIF image" }
        else if starts([0x42, 0x4D]) { known = "a BMP image" }
        else if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A]) { known = "a TIFF image" }
        else if p.count >= 8 && Array(p[4..<8]) == Array("ftyp".utf8) { known = "an ISO media file (HEIF, AVIF or MP4)" }
        else if starts([0xFF, 0x0A]) || starts([0x00, 0x00, 0x00, 0x0C, 0x4A, 0x58, 0x4C, 0x20]) { known = "a JPEG XL image" }
        else if starts(Array("%PDF".utf8)) { known = "a PDF document" }
        else if starts([0x00, 0x00, 0x01, 0x00]) { known = "an ICO image" }
        else { known = nil }
        let printable = !p.isEmpty && p.allSatisfy { $0 == 0x09 || $0 == 0x0A || $0 == 0x0D || (0x20..<0x7F).contains($0) }
        let shown: String
        if printable {
            var s = ""
            for b in p {
                switch b {
                case 0x09: s += "\\t"
                case 0x0A: s += "\\n"
                case 0x0D: s += "\\r"
                case 0x22: s += "\\\""
                case 0x5C: s += "\\\\"
                default: s.unicodeScalars.append(Unicode.Scalar(b))
                }
            }
            shown = "starts with \"\(s)\""
        } else {
            let hex: [Character] = Array("0123456789abcdef")
            shown = "starts with " + p.map { String([hex[Int($0 >> 4)], hex[Int($0 & 15)]]) }.joined(separator: " ")
        }
        if let known { return "\(known), \(shown)" }
        return shown
    }
}
