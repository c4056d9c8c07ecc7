/// A JSON number as written in the document.
///
/// Keeping the text means integers beyond 2^53 stay exact (`int64`, `uint64`) while callers that
/// want a floating-point value get the correctly rounded `double` (±infinity beyond its range,
/// as Swift's `Double(String)` gives).
public struct JSONNumber: Sendable, Hashable, CustomStringConvertible {
    /// The number's literal text (already checked against the parser's number grammar).
    public let text: String

    /// A number from its literal text; the caller guarantees the text is a number.
    public init(text: String) { self.text = text }

    /// An integer, written in decimal.
    public init(_ value: Int64) { text = String(value) }

    /// The value as an exact `Int`, or nil for fractions, exponents and out-of-range numbers.
    public var int: Int? { Int(text) }
    /// The value as an exact `Int64`, or nil for fractions, exponents and out-of-range numbers.
    public var int64: Int64? { Int64(text) }
    /// The value as an exact `UInt64`, or nil for negatives, fractions, exponents and out-of-range numbers.
    public var uint64: UInt64? { UInt64(text) }
    /// The value as the nearest Double (±infinity beyond its range; nil only for text that
    /// Swift cannot read as a number, which the strict grammar never lets through).
    public var double: Double? { Double(text) }
    /// The literal text.
    public var description: String { text }
}
