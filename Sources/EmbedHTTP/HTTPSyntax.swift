/// RFC 9110/9112 character classes and small helpers the parsers share.
enum HTTPSyntax {
    static let cr: UInt8 = 13
    static let lf: UInt8 = 10
    static let sp: UInt8 = 32
    static let htab: UInt8 = 9
    static let colon: UInt8 = 58

    /// `tchar` (RFC 9110 §5.6.2): the characters of a method or a field name.
    static let tokenTable: [Bool] = {
        var t = [Bool](repeating: false, count: 256)
        for c in UInt8(ascii: "0")...UInt8(ascii: "9") { t[Int(c)] = true }
        for c in UInt8(ascii: "a")...UInt8(ascii: "z") { t[Int(c)] = true }
        for c in UInt8(ascii: "A")...UInt8(ascii: "Z") { t[Int(c)] = true }
        for c in "!#$%&'*+-.^_`|~".utf8 { t[Int(c)] = true }
        return t
    }()

    @inline(__always) static func isToken(_ b: UInt8) -> Bool { tokenTable[Int(b)] }

    /// A byte allowed inside a field value: VCHAR, SP, HTAB, obs-text (never CR, LF, NUL or other controls).
    @inline(__always) static func isFieldValueByte(_ b: UInt8) -> Bool { b == htab || (b >= 0x20 && b != 0x7F) }

    @inline(__always) static func lower(_ b: UInt8) -> UInt8 { b >= 65 && b <= 90 ? b + 32 : b }

    @inline(__always) static func isDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }

    /// Removes spaces and tabs around `s`.
    static func trim(_ s: Substring) -> String {
        var u = s.utf8[...]
        while let f = u.first, f == sp || f == htab { u = u.dropFirst() }
        while let l = u.last, l == sp || l == htab { u = u.dropLast() }
        return String(decoding: u, as: UTF8.self)
    }

    /// Printable bytes of `bytes` for an error message (at most 40, controls as \xNN).
    static func describe(_ bytes: UnsafeRawBufferPointer.SubSequence) -> String {
        var out = ""
        for b in bytes.prefix(40) {
            if b >= 0x20 && b < 0x7F { out.unicodeScalars.append(Unicode.Scalar(b)) } else {
                let hex = String(b, radix: 16, uppercase: true)
                out += "\\x" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return bytes.count > 40 ? out + "…" : out
    }
}
