@_spi(_Unicode) import Swift

/// Hugging Face's `BertNormalizer` followed by `BertPreTokenizer`: cleans the text, pads CJK
/// ideographs with spaces, strips accents (NFD, then drop non-spacing marks), lower-cases, and
/// splits into words on whitespace and punctuation. Character classes come from
/// `BertCharacterTables`, probed from the reference, so results match `tokenizers` exactly.
public struct BertNormalizer: Sendable {
    /// Remove control characters and map all whitespace to ' '.
    public var cleanText = true
    /// Surround CJK ideographs with spaces so each becomes its own word.
    public var handleChineseChars = true
    /// Decompose (NFD) and drop non-spacing marks.
    public var stripAccents = true
    /// Lower-case (full Unicode mapping, no context).
    public var lowercase = true

    static let removed = CharacterClass(BertCharacterTables.removed)
    static let whitespace = CharacterClass(BertCharacterTables.whitespace)
    static let splitSpace = CharacterClass(BertCharacterTables.preTokenizerWhitespace)
    static let punctuation = CharacterClass(BertCharacterTables.punctuation)
    static let chinese = CharacterClass(BertCharacterTables.chinese)
    static let marks = CharacterClass(BertCharacterTables.nonspacingMarks)
    static let lowerTable: [UInt32: UInt32] = {
        var d: [UInt32: UInt32] = [:]
        let t = BertCharacterTables.lowercaseSingle
        for i in stride(from: 0, to: t.count, by: 2) { d[t[i]] = t[i + 1] }
        return d
    }()

    /// Creates a normalizer with the given options (all on by default, as uncased BERT).
    public init(cleanText: Bool = true, handleChineseChars: Bool = true, stripAccents: Bool = true, lowercase: Bool = true) {
        self.cleanText = cleanText
        self.handleChineseChars = handleChineseChars
        self.stripAccents = stripAccents
        self.lowercase = lowercase
    }

    /// Normalises `text` into scalars (the order of the reference: clean, CJK, accents, case).
    public func normalize<S: Sequence<Unicode.Scalar>>(_ text: S) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.underestimatedCount + 8)
        var allASCII = true
        for c in text {
            if cleanText {
                if Self.removed.contains(c) { continue }
                if Self.whitespace.contains(c) { out.append(" "); continue }
            }
            if handleChineseChars && c.value >= 0x3400 && Self.chinese.contains(c) {
                out.append(" "); out.append(c); out.append(" ")
                allASCII = false
                continue
            }
            if c.value >= 128 { allASCII = false }
            out.append(c)
        }
        if stripAccents && !allASCII {
            var s = String.UnicodeScalarView()
            s.append(contentsOf: out)
            out.removeAll(keepingCapacity: true)
            for c in String(s)._nfd where !Self.marks.contains(c) { out.append(c) }
        }
        if lowercase {
            for i in out.indices {
                let v = out[i].value
                if v < 128 {
                    if v >= 65 && v <= 90 { out[i] = Unicode.Scalar(v + 32)! }
                } else if let l = Self.lowerTable[v] {
                    out[i] = Unicode.Scalar(l)!
                }
            }
            if !allASCII, !BertCharacterTables.lowercaseMulti.isEmpty,
               out.contains(where: { BertCharacterTables.lowercaseMulti[$0.value] != nil }) {
                out = out.flatMap { c -> [Unicode.Scalar] in
                    if let m = BertCharacterTables.lowercaseMulti[c.value] { return m.map { Unicode.Scalar($0)! } }
                    return [c]
                }
            }
        }
        return out
    }

    /// Splits normalised scalars into words: whitespace separates, each punctuation character
    /// is a word of its own (BertPreTokenizer).
    public static func splitWords(_ scalars: ArraySlice<Unicode.Scalar>) -> [ArraySlice<Unicode.Scalar>] {
        var words: [ArraySlice<Unicode.Scalar>] = []
        var start = -1
        for i in scalars.indices {
            let c = scalars[i]
            if c == " " || splitSpace.contains(c) {
                if start >= 0 { words.append(scalars[start..<i]); start = -1 }
            } else if punctuation.contains(c) {
                if start >= 0 { words.append(scalars[start..<i]); start = -1 }
                words.append(scalars[i..<(i + 1)])
            } else if start < 0 {
                start = i
            }
        }
        if start >= 0 { words.append(scalars[start...]) }
        return words
    }
}
