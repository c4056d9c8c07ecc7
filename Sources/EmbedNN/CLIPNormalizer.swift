@_spi(_Unicode) import Swift

/// CLIP's text clean-up as Hugging Face `tokenizers` runs it for `CLIPTokenizer`: NFC, every run
/// of whitespace (Oniguruma's `\s`) to one space, then lower case one scalar at a time (Rust's
/// `char::to_lowercase`, so a final sigma stays σ). Leading and trailing spaces stay; the
/// pre-tokenizer drops them.
///
/// NFC is Swift's, corrected twice: the reference's normalisation data is Unicode 9.0, and
/// characters assigned later are inert there (never decomposed, composed or reordered), so text
/// in which Swift's NFC changes anything is composed in runs between such characters; and three
/// Tibetan vowel signs Swift misorders are decomposed first (`swiftNFC`).
enum CLIPNormalizer {
    static let whitespace = CharacterClass(CLIPCharacterTables.whitespace)

    /// Whether the pipeline treats `c` as whitespace (`\s`).
    @inline(__always) static func isWhitespace(_ c: Unicode.Scalar) -> Bool {
        c == " " || whitespace.contains(c)
    }

    /// Appends the normalised form of `text` to `out`.
    static func normalize(_ text: ArraySlice<Unicode.Scalar>, into out: inout [Unicode.Scalar]) {
        if text.allSatisfy({ $0.value < 0x80 }) {
            appendCleaned(text, into: &out)
        } else {
            appendCleaned(nfc(text)[...], into: &out)
        }
    }

    /// Whitespace runs to one space, then lower case.
    private static func appendCleaned(_ text: ArraySlice<Unicode.Scalar>, into out: inout [Unicode.Scalar]) {
        out.reserveCapacity(out.count + text.count)
        let whitespace = Self.whitespace, lower = BertNormalizer.lowerTable
        var inSpace = false
        for c in text {
            let v = c.value
            if v < 0x80 {
                if v == 0x20 || (v >= 0x09 && v <= 0x0D) {
                    if !inSpace { out.append(" "); inSpace = true }
                    continue
                }
                inSpace = false
                out.append(v >= 0x41 && v <= 0x5A ? Unicode.Scalar(UInt8(v + 32)) : c)
                continue
            }
            if whitespace.contains(c) {
                if !inSpace { out.append(" "); inSpace = true }
                continue
            }
            inSpace = false
            if let l = lower[v] {
                out.append(Unicode.Scalar(l)!)
            } else if let m = BertCharacterTables.lowercaseMulti[v] {
                for x in m { out.append(Unicode.Scalar(x)!) }
            } else {
                out.append(c)
            }
        }
    }

    /// NFC as the reference computes it (see the type's comment).
    static func nfc(_ text: ArraySlice<Unicode.Scalar>) -> [Unicode.Scalar] {
        let composed = swiftNFC(text)
        // Unchanged by Swift's NFC means unchanged by the reference's: every reordering or
        // composition the reference would do involves only characters both know alike.
        if composed.elementsEqual(text) { return composed }
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.count)
        var runStart = text.startIndex
        for i in text.indices where isNewerThanReference(text[i]) {
            out += swiftNFC(text[runStart..<i])
            out.append(text[i])
            runStart = i + 1
        }
        out += swiftNFC(text[runStart...])
        return out
    }

    /// Swift's NFC, with U+0F73, U+0F75 and U+0F81 decomposed first: they have combining class
    /// 0 but decompose into marks (U+0F71 + U+0F72/U+0F74/U+0F80), and Swift's NFC does not
    /// move those marks before a preceding mark of a higher class ("İ\u{323}\u{F75}" comes out
    /// as "Ị\u{307}\u{F71}\u{F74}" instead of "Ị\u{F71}\u{F74}\u{307}"). Decomposed, the text is
    /// canonically equivalent (all three are excluded from composition), and Swift orders it right.
    private static func swiftNFC(_ text: ArraySlice<Unicode.Scalar>) -> [Unicode.Scalar] {
        guard !text.isEmpty else { return [] }
        var view = String.UnicodeScalarView()
        for c in text {
            switch c.value {
            case 0x0F73: view.append("\u{0F71}"); view.append("\u{0F72}")
            case 0x0F75: view.append("\u{0F71}"); view.append("\u{0F74}")
            case 0x0F81: view.append("\u{0F71}"); view.append("\u{0F80}")
            default: view.append(c)
            }
        }
        return Array(String(view)._nfc)
    }

    /// Assigned after the reference's Unicode version (unassigned scalars are inert to both).
    private static func isNewerThanReference(_ c: Unicode.Scalar) -> Bool {
        guard c.value >= 0x300, let age = c.properties.age else { return false }
        let ref = CLIPCharacterTables.nfcUnicodeVersion
        return age.major > ref.major || (age.major == ref.major && age.minor > ref.minor)
    }
}
