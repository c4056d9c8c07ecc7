import CEmbedABI

/// One input to embed, in the shapes the plugin ABI carries.
public enum EmbedInput: Sendable, Hashable {
    /// UTF-8 text.
    case text(String)
    /// Encoded media bytes (PNG, JPEG, WAV, ...) typed by a MIME type.
    case encoded(bytes: [UInt8], mimeType: String)
    /// Decoded pixels, `width * height * 3` bytes, RGB, row-major.
    case rgb8(pixels: [UInt8], width: Int, height: Int)
    /// Decoded sound, interleaved float32 samples in [-1, 1].
    case pcm(samples: [Float], sampleRate: Int, channels: Int = 1)
    /// An open file of encoded media typed by a MIME type (ABI 1.1; only for models whose
    /// input kinds include `.file`): read by the plugin, never copied by the host.
    case file(OpenFile, mimeType: String)

    /// The ABI's kind for this input.
    public var kind: InputKind {
        switch self {
        case .text: .text
        case .encoded: .encoded
        case .rgb8: .rgb8
        case .pcm: .pcmF32
        case .file: .file
        }
    }

    /// Size in bytes as the plugin sees it (`embedd_input.size`).
    public var byteCount: Int {
        switch self {
        case .text(let s): s.utf8.count
        case .encoded(let b, _): b.count
        case .rgb8(let p, _, _): p.count
        case .pcm(let s, _, _): s.count * 4
        case .file(let f, _): Int(clamping: f.size)
        }
    }
}

/// The ABI's input kinds (`embedd_input_kind`).
public enum InputKind: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    case text = 1, encoded = 2, rgb8 = 3, pcmF32 = 4, file = 5
    public var description: String {
        switch self {
        case .text: "text"
        case .encoded: "encoded media"
        case .rgb8: "RGB8 pixels"
        case .pcmF32: "float32 PCM"
        case .file: "open file"
        }
    }
}

/// Modalities a model accepts (`embedd_modality`).
public struct Modalities: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let text = Modalities(rawValue: 1 << 0)
    public static let image = Modalities(rawValue: 1 << 1)
    public static let audio = Modalities(rawValue: 1 << 2)
    public static let video = Modalities(rawValue: 1 << 3)

    /// Names, e.g. ["text", "image"].
    public var names: [String] {
        [(Modalities.text, "text"), (.image, "image"), (.audio, "audio"), (.video, "video")]
            .filter { contains($0.0) }.map(\.1)
    }
    public var description: String { names.joined(separator: "+") }
}

/// The metric a model's vectors are compared with (`embedd_metric`).
public enum Metric: String, Sendable, CaseIterable {
    case cosine, l2, innerProduct = "ip"

    init?(abi: UInt32) {
        switch abi {
        case 0: self = .cosine
        case 1: self = .l2
        case 2: self = .innerProduct
        default: return nil
        }
    }
}

/// Log levels, numbered as journald priorities (`embedd_log_level`).
public enum LogLevel: Int, Sendable, Comparable {
    case error = 3, warning = 4, notice = 5, info = 6, debug = 7
    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rawValue < b.rawValue }
}

/// Where the host sends log lines: `(level, message)`.
public typealias LogSink = @Sendable (LogLevel, String) -> Void
