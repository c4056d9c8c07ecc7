@testable import EmbedServer
import Testing

/// Old-style space ids (`FAMILY/FOLDER@fnv64:HASH`) and when a loaded model stands for one.
struct LegacySpaceIDTests {
    @Test func parsesOnlyOldStyleIDs() {
        let p = LegacySpaceID.parse("sentence-transformers/all-MiniLM-L6-v2@fnv64:0123456789abcdef")
        #expect(p.map { "\($0.family) \($0.fingerprint)" } == "sentence-transformers 0123456789abcdef")
        // A folder name may hold '@' and '/' parts; the hash is after the last marker.
        #expect(LegacySpaceID.parse("clip/a@b@fnv64:0123456789abcdef")?.family == "clip")
        for id in ["sentence-transformers@fnv64:0123456789abcdef", "fixture/trigram", "", "x/y@fnv64:0123",
                   "x/y@fnv64:0123456789ABCDEF", "/y@fnv64:0123456789abcdef", "x/@fnv64:0123456789abcdef"] {
            #expect(LegacySpaceID.parse(id) == nil, "\(id)")
        }
    }

    @Test func matchesBySpaceOrVersionWithinTheFamily() {
        let old = "sentence-transformers/all-MiniLM-L6-v2@fnv64:0123456789abcdef"
        // Text: the space hash also covers pooling, the version carries the old fingerprint.
        #expect(LegacySpaceID.matches(legacy: old, space: "sentence-transformers@fnv64:fedcba9876543210", version: "fnv64:0123456789abcdef"))
        #expect(!LegacySpaceID.matches(legacy: old, space: "sentence-transformers@fnv64:fedcba9876543210", version: "fnv64:1111111111111111"))
        // CLIP, ResNet, Whisper, video: the space carries it.
        #expect(LegacySpaceID.matches(legacy: "clip/x@fnv64:0123456789abcdef", space: "clip@fnv64:0123456789abcdef", version: "video-1:uniform"))
        #expect(!LegacySpaceID.matches(legacy: "clip/x@fnv64:0123456789abcdef", space: "resnet@fnv64:0123456789abcdef", version: "fnv64:0123456789abcdef"))
        // Never to another old-style id (the folder's name alone proves nothing).
        #expect(!LegacySpaceID.matches(legacy: old, space: "sentence-transformers/other@fnv64:0123456789abcdef", version: "fnv64:0123456789abcdef"))
    }
}
