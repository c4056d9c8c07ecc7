import EmbedSys
import Foundation
import Testing

/// Space ids by content (issue 26) with the real text plugin and all-MiniLM-L6-v2: a collection
/// whose `embedd.binding` was written by an earlier release (`space sentence-transformers/<folder>@fnv64:<hash>`)
/// is rebound when the model has that fingerprint, and refused as before when it has not; a copy
/// of the model in another folder is the same space.
@Suite(.serialized) struct SpaceRebindingTests {
    static let modelsMissing = ServingFixtures.skipReason([ServingFixtures.miniLM])

    /// `embedd.binding` as CollectionBinding.encoded() wrote it before space ids stopped naming folders.
    static func oldBinding(space: String) -> String {
        ["embedd-binding 1", "model minilm", "space \(space)", "owner 0", "created_ms 1764000000000", "restrict_read 0",
         "reader_uids ", "reader_gids ", "writer_uids ", "writer_gids ", ""].joined(separator: "\n")
    }

    static func json(_ text: String) throws -> Any { try JSONSerialization.jsonObject(with: Data(text.utf8)) }

    @Test(.enabled(if: modelsMissing == nil, "all-MiniLM-L6-v2 absent: run tools/fetch-models"))
    func oldBindingsAreReboundByFingerprintAndACopyIsTheSameSpace() throws {
        let d = try RestartableDaemon(models: """
              - name: minilm
                plugin: \(ServingFixtures.textPlugin)
                model_dir: \(ServingFixtures.modelDir(ServingFixtures.miniLM))

            """)
        defer { d.stop() }
        let models = try #require(try Self.json(d.ctl(["models", "--format", "json"]).stdout) as? [[String: Any]])
        let space = try #require(models.first?["embedding_space"] as? String)
        let version = try #require(models.first?["version"] as? String)
        #expect(space.wholeMatch(of: /sentence-transformers@fnv64:[0-9a-f]{16}/) != nil, "\(space) \(d.log)")
        #expect(version.wholeMatch(of: /fnv64:[0-9a-f]{16}/) != nil, "\(version)")
        for args in [["collection", "create", "notes", "--model", "minilm"],
                     ["add", "notes", "--key", "meal", "A man is eating food."],
                     ["add", "notes", "--key", "weather", "The weather is lovely today."]] {
            let r = try d.ctl(args)
            try #require(r.status == 0, "\(args): \(r.stderr)")
        }
        let binding = d.directory + "/data/collections/notes/embedd.binding"
        #expect(try String(contentsOfFile: binding, encoding: .utf8).contains("space \(space)\n"))

        // Written by an earlier release: the folder's name and the same fingerprint.
        let old = "sentence-transformers/all-MiniLM-L6-v2@" + version
        #expect(d.stop() == 0)
        try Self.oldBinding(space: old).write(toFile: binding, atomically: true, encoding: .utf8)
        try d.start()
        let hit = try d.ctl(["search", "notes", "Someone is having a meal.", "-k", "1", "--format", "json"])
        #expect(hit.status == 0 && hit.stdout.contains("\"meal\""), "\(hit.stdout)\(hit.stderr)")
        let rewritten = try String(contentsOfFile: binding, encoding: .utf8)
        #expect(rewritten.contains("space \(space)\n") && rewritten.contains("created_ms 1764000000000\n"), "\(rewritten)")
        #expect(d.log.contains("collection 'notes': rebound from space \(old) to \(space)"))

        // A copy of the folder elsewhere (links to the same files) is the same space.
        let copy = d.directory + "/copy-of-minilm"
        try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: false)
        for entry in try FileManager.default.contentsOfDirectory(atPath: ServingFixtures.modelDir(ServingFixtures.miniLM)) {
            try FileManager.default.createSymbolicLink(atPath: copy + "/" + entry, withDestinationPath: ServingFixtures.modelDir(ServingFixtures.miniLM) + "/" + entry)
        }
        let load = try d.ctl(["models", "load", "copy", "--plugin", ServingFixtures.textPlugin, "--dir", copy, "--temporary", "--format", "json"])
        try #require(load.status == 0, "\(load.stderr)")
        #expect((try Self.json(load.stdout) as? [String: Any])?["embedding_space"] as? String == space)
        let viaCopy = try d.ctl(["search", "notes", "--model", "copy", "Someone is having a meal.", "-k", "1", "--format", "json"])
        #expect(viaCopy.status == 0 && viaCopy.stdout.contains("\"meal\""), "\(viaCopy.stderr)")

        // Another fingerprint under the old name: refused as before, and the file left alone.
        let other = "sentence-transformers/all-MiniLM-L6-v2@fnv64:0000000000000000"
        #expect(d.stop() == 0)
        try Self.oldBinding(space: other).write(toFile: binding, atomically: true, encoding: .utf8)
        try d.start()
        let refused = try d.ctl(["search", "notes", "Someone is having a meal."])
        #expect(refused.status == 1 && refused.stderr.contains("FAILED_PRECONDITION") && refused.stderr.contains("not comparable"), "\(refused.stderr)")
        #expect(try String(contentsOfFile: binding, encoding: .utf8) == Self.oldBinding(space: other))
    }
}
