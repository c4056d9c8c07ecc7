import EmbedSys

/// Key → node lookup. Keys present at the last checkpoint are found in an open-addressing
/// hash table mapped from the snapshot (so opening never rebuilds a dictionary: O(1) open);
/// keys touched since live in an in-memory overlay that takes precedence.
///
/// Table slot (UInt64, little-endian): low 32 bits = node id + 1 (0 = empty), high 32 bits =
/// upper half of the key's 64-bit FNV-1a hash. Linear probing; capacity a power of two ≥ 2n.
///
/// Keys are compared as UTF-8 bytes everywhere — never as Swift `String`s, whose equality is
/// Unicode canonical equivalence ("é" == "e\u{301}"): that would make two clients' different
/// keys one record in the overlay while the table kept them apart.
final class KeyIndex {
    private var table: MappedRegion?
    private var mask: Int = 0
    private var overlay: [[UInt8]: UInt32] = [:]

    init() {}

    /// Uses `slots` slots at the front of `region` (from the snapshot).
    init(region: MappedRegion, slots: Int) {
        table = slots > 0 ? region : nil
        mask = slots - 1
    }

    static func hash(_ bytes: some Sequence<UInt8>) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return h
    }

    /// The node currently bound to `key` (possibly deleted), or nil.
    func lookup(_ key: String, in store: NodeStore) -> UInt32? {
        if !overlay.isEmpty, let id = overlay[Array(key.utf8)] { return id }
        guard let table else { return nil }
        var key = key
        return key.withUTF8 { utf8 in
            let h = KeyIndex.hash(utf8)
            let tag = UInt32(truncatingIfNeeded: h >> 32)
            let slots = table.base.assumingMemoryBound(to: UInt64.self)
            var i = Int(truncatingIfNeeded: h) & mask
            for _ in 0...mask {
                let slot = slots[i]
                if slot == 0 { return nil }
                let id = UInt32(truncatingIfNeeded: slot) &- 1
                if UInt32(truncatingIfNeeded: slot >> 32) == tag, Int(id) < store.count,
                   store.keyBytes(id).elementsEqual(UnsafeRawBufferPointer(utf8)) {
                    return id
                }
                i = (i + 1) & mask
            }
            return nil
        }
    }

    /// Binds `key` to `id` (newer than anything in the table).
    func bind(_ key: String, to id: UInt32) { overlay[Array(key.utf8)] = id }

    /// Builds a fresh table over every live node of `store`, for the next snapshot.
    static func buildTable(store: NodeStore, liveCount: Int) -> [UInt64] {
        var slots = 16
        while slots < 2 * liveCount { slots <<= 1 }
        let mask = slots - 1
        var table = [UInt64](repeating: 0, count: slots)
        for idx in 0..<store.count {
            let id = UInt32(idx)
            if store.isDeleted(id) { continue }
            let h = hash(store.keyBytes(id))
            var i = Int(truncatingIfNeeded: h) & mask
            while table[i] != 0 { i = (i + 1) & mask }
            table[i] = (h >> 32) << 32 | UInt64(id + 1)
        }
        return table
    }
}
