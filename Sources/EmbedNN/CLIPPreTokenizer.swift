/// CLIP's pre-tokenizer as transformers 5 builds it: `Split` keeping the matches of
/// `<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+`
/// (whitespace between them is dropped), then `ByteLevel` with GPT-2's split regex.
///
/// The second split changes only the two special-token matches: "<|endoftext|>" becomes
/// "<|", "endoftext", "|>". The first alternative still matters: it ends a match there, so in
/// "<|endoftext|>!" the "!" is a word of its own, where the plain punctuation run would be "|>!".
/// (Literal special tokens are normally taken out before, as added tokens; this is for the ones
/// that are not, such as "<|ENDOFTEXT|>" lower-cased.)
enum CLIPPreTokenizer {
    static let letters = CharacterClass(CLIPCharacterTables.letters)
    static let numbers = CharacterClass(CLIPCharacterTables.numbers)

    enum Kind { case space, letter, number, other }

    /// Kinds of ASCII scalars, looked up without the range tables.
    private static let asciiKinds: [Kind] = (0..<128).map { v in
        let c = Unicode.Scalar(UInt8(v))
        if CLIPNormalizer.isWhitespace(c) { return .space }
        if letters.contains(c) { return .letter }
        if numbers.contains(c) { return .number }
        return .other
    }

    /// The class of a scalar for the split regex (`\s`, `\p{L}`, `\p{N}`, anything else).
    @inline(__always) static func kind(_ c: Unicode.Scalar) -> Kind {
        if c.value < 0x80 { return asciiKinds[Int(c.value)] }
        if letters.contains(c) { return .letter }
        if CLIPNormalizer.whitespace.contains(c) { return .space }
        if numbers.contains(c) { return .number }
        return .other
    }

    /// The regex's first two alternatives.
    static let specialMatches: [[Unicode.Scalar]] = ["<|startoftext|>", "<|endoftext|>"].map { Array($0.unicodeScalars) }

    /// The words of normalised text, as index ranges, in order.
    struct Words {
        private let s: ArraySlice<Unicode.Scalar>
        private var i: Int
        private var queued: [Range<Int>] = []

        init(_ s: ArraySlice<Unicode.Scalar>) {
            self.s = s
            i = s.startIndex
        }

        mutating func next() -> Range<Int>? {
            if !queued.isEmpty { return queued.removeFirst() }
            let end = s.endIndex
            while i < end {
                let c = s[i]
                let start = i
                if c == "'", let n = contraction(s, at: i) {
                    i += n
                    return start..<i
                }
                if c == "<", let special = specialMatches.first(where: { s[i...].starts(with: $0) }) {
                    let n = special.count
                    i += n
                    queued = [(start + 2)..<(i - 2), (i - 2)..<i]  // the name, then "|>"
                    return start..<(start + 2)  // "<|"
                }
                switch kind(c) {
                case .space:
                    i += 1
                case .number:
                    i += 1
                    return start..<i
                case .letter:
                    i += 1
                    while i < end && kind(s[i]) == .letter { i += 1 }
                    return start..<i
                case .other:
                    i += 1
                    while i < end && kind(s[i]) == .other { i += 1 }
                    return start..<i
                }
            }
            return nil
        }
    }

    /// Length of the contraction ('s 't 're 've 'm 'll 'd) starting at `i`, if one does.
    @inline(__always) static func contraction(_ s: ArraySlice<Unicode.Scalar>, at i: Int) -> Int? {
        guard i + 1 < s.endIndex else { return nil }
        switch s[i + 1] {
        case "s", "t", "m", "d": return 2
        case "r", "v":
            return i + 2 < s.endIndex && s[i + 2] == "e" ? 3 : nil
        case "l":
            return i + 2 < s.endIndex && s[i + 2] == "l" ? 3 : nil
        default: return nil
        }
    }
}
