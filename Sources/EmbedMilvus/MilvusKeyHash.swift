/// The int64 primary key that stands for an embedd key in a Milvus collection whose primary
/// key is an `Int64` the client supplies (REST v1 collections created with autoID off).
///
/// FNV-1a 64 over the key's UTF-8 bytes (offset basis 0xcbf29ce484222325, prime 0x100000001b3),
/// with the top bit cleared so the id is a non-negative int64 (some Milvus tools and filters
/// such as `id >= 0` assume so). It is stable across machines, versions and languages (five
/// lines of Python: see docs/milvus.md). Two keys collide with probability about n²/2⁶⁴
/// (one in ~3,700 at 10⁸ keys); the exporter detects a collision within a batch and refuses.
public enum MilvusKeyHash {
    public static func id(_ key: String) -> Int64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in key.utf8 {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01b3
        }
        return Int64(bitPattern: h & 0x7FFF_FFFF_FFFF_FFFF)
    }
}
