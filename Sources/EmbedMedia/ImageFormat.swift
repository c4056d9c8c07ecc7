/// The encoded image formats EmbedMedia decodes.
///
/// The format is decided by the content's magic bytes (`sniff`); a declared MIME type is a hint
/// only. Content wins because clients guess MIME types from file names, and a `.png` that is
/// really a JPEG decodes the same in Pillow (which also ignores the name).
public enum ImageFormat: String, Sendable, CaseIterable, CustomStringConvertible {
    case jpeg, png, webp

    /// The MIME type this format is served as.
    public var mimeType: String {
        switch self {
        case .jpeg: return "image/jpeg"
        case .png: return "image/png"
        case .webp: return "image/webp"
        }
    }

    /// "JPEG", "PNG", "WebP": the names used in messages.
    public var description: String {
        switch self {
        case .jpeg: return "JPEG"
        case .png: return "PNG"
        case .webp: return "WebP"
        }
    }

    /// The format a MIME type names (`image/jpeg`, `image/jpg`, `image/pjpeg`, `image/png`,
    /// `image/apng`, `image/webp`; case-insensitive, parameters after `;` ignored), or nil.
    public init?(mimeType: String) {
        let base = mimeType.split(separator: ";", maxSplits: 1).first.map(String.init) ?? ""
        switch base.lowercased().filter({ $0 != " " && $0 != "\t" }) {
        case "image/jpeg", "image/jpg", "image/pjpeg": self = .jpeg
        case "image/png", "image/apng", "image/x-png": self = .png
        case "image/webp": self = .webp
        default: return nil
        }
    }

    /// The format of `bytes` from its magic bytes: JPEG `FF D8 FF`, PNG's 8-byte signature,
    /// WebP `RIFF` <size> `WEBP`. Nil when it is none of them.
    public static func sniff(_ bytes: UnsafeRawBufferPointer) -> ImageFormat? {
        let n = bytes.count
        func at(_ i: Int) -> UInt8 { bytes[i] }  // callers check n first
        if n >= 3 && at(0) == 0xFF && at(1) == 0xD8 && at(2) == 0xFF { return .jpeg }
        if n >= 8 && [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A].enumerated().allSatisfy({ at($0.offset) == $0.element }) {
            return .png
        }
        if n >= 12 && at(0) == 0x52 && at(1) == 0x49 && at(2) == 0x46 && at(3) == 0x46
            && at(8) == 0x57 && at(9) == 0x45 && at(10) == 0x42 && at(11) == 0x50 {
            return .webp
        }
        return nil
    }

    /// `sniff` over an array.
    public static func sniff(_ bytes: [UInt8]) -> ImageFormat? {
        bytes.withUnsafeBytes { sniff($0) }
    }
}
