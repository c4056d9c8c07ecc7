/// Embedding space ids of earlier releases, which named the model's folder:
/// `FAMILY/FOLDER@fnv64:HASH` (`sentence-transformers/all-MiniLM-L6-v2@fnv64:…`). The plugins now
/// name a space by content alone, `FAMILY@fnv64:SPACEHASH`, so a copy of a model in another
/// folder is the same space. Collections bound under an old id are rebound (`StoreService`) when
/// their model is loaded and its fingerprint is the old id's HASH — never orphaned, and never
/// rebound to a model that merely shares the folder's name.
enum LegacySpaceID {
    /// The family and fingerprint of an old-style id; nil for anything else (new-style ids,
    /// raw collections, ids of other plugins).
    static func parse(_ id: String) -> (family: Substring, fingerprint: Substring)? {
        guard let at = id.ranges(of: "@fnv64:").last else { return nil }
        let hash = id[at.upperBound...]
        guard hash.utf8.count == 16, hash.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else { return nil }
        let name = id[..<at.lowerBound]
        guard let slash = name.firstIndex(of: "/") else { return nil }
        let family = name[..<slash]
        let folder = name[name.index(after: slash)...]
        guard !family.isEmpty, !folder.isEmpty, !family.contains("@") else { return nil }
        return (family, hash)
    }

    /// Whether a model that reports `space` and `version` makes the vectors the old-style id
    /// `legacy` named: same family, and its fingerprint is the old id's — carried by its version
    /// (`fnv64:HASH`: the text plugin, whose space hash now also covers pooling) or by the space
    /// itself (CLIP, ResNet, Whisper, and a video model in its frames model's space).
    static func matches(legacy: String, space: String, version: String) -> Bool {
        guard let (family, hash) = parse(legacy) else { return false }
        guard space.hasPrefix(family + "@fnv64:"), parse(space) == nil else { return false }
        return version == "fnv64:" + hash || space == family + "@fnv64:" + hash
    }
}
