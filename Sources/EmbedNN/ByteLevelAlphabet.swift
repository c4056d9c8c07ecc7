/// GPT-2's reversible map from bytes to printable characters, the alphabet byte-level BPE
/// vocabularies (GPT-2's, CLIP's) are written in: printable Latin-1 bytes stand for themselves,
/// the others (controls, space, soft hyphen, …) for U+0100 onwards in byte order.
enum ByteLevelAlphabet {
    static let scalars: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var n: UInt32 = 0
        for b in 0..<256 {
            let printable = (33...126).contains(b) || (161...172).contains(b) || (174...255).contains(b)
            if printable {
                table[b] = Unicode.Scalar(UInt8(b))
            } else {
                table[b] = Unicode.Scalar(256 + n)!
                n += 1
            }
        }
        return table
    }()

    /// The character byte `b` is written as.
    static func scalar(_ b: UInt8) -> Unicode.Scalar { scalars[Int(b)] }
}
