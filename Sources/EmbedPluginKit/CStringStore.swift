/// NUL-terminated copies of strings whose addresses must stay stable for a model's lifetime
/// (the ABI's model description hands out `const char *`). Freed in deinit.
final class CStringStore {
    private var owned: [UnsafeMutablePointer<CChar>] = []

    /// A stable C copy of `s` (owned by this store).
    func make(_ s: String) -> UnsafePointer<CChar> {
        let p = Self.copy(s)
        owned.append(p)
        return UnsafePointer(p)
    }

    /// A C copy of `s` that nobody frees (descriptor strings live as long as the image).
    static func copy(_ s: String) -> UnsafeMutablePointer<CChar> {
        let bytes = Array(s.utf8)
        let p = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count + 1)
        for (i, b) in bytes.enumerated() { p[i] = CChar(bitPattern: b) }
        p[bytes.count] = 0
        return p
    }

    deinit { owned.forEach { $0.deallocate() } }
}
