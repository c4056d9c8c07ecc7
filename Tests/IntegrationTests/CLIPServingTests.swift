import EmbedClient
import EmbedSys
import EmbedWire
import Foundation
import Testing

/// CLIP end to end (issue 20): the real daemon with the real clip plugin and the tiny seeded
/// CLIP, over the socket. One collection holds pictures and texts; every stored item used as a
/// query returns the neighbours a brute-force search over transformers' vectors returns; text
/// finds pictures from embedctl; a ResNet collection refuses a CLIP query; `embedctl classify`
/// ranks labels as CLIP's softmax does.
@Suite(.serialized) struct CLIPServingTests {
    static var clipPlugin: String { Products.directory + "/libembedd-clip.so" }
    static var imagePlugin: String { Products.directory + "/libembedd-image.so" }
    static let tiny = Products.repoRoot + "/Tests/Fixtures/clip/clip-tiny-quickgelu"
    static let resnet = Products.repoRoot + "/Tests/Fixtures/image/resnet-tiny-bottleneck"

    static func daemon() throws -> RestartableDaemon {
        try RestartableDaemon(models: """
              - name: clip
                plugin: \(clipPlugin)
                model_dir: \(tiny)
                options: { precision: fp32 }
              - name: resnet
                plugin: \(imagePlugin)
                model_dir: \(resnet)
                options: { precision: fp32 }

            """ + TestDaemon.fixtureModel())
    }

    /// The golden texts and pictures of the tiny model with transformers' vectors (normalised).
    struct Reference {
        var keys: [String] = []
        var inputs: [Input] = []
        var vectors: [[Float]] = []
        var files: [String: String] = [:]  // key → picture path
        var texts: [String?] = []  // the text of each text item (nil for pictures)

        init() throws {
            let index = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: tiny + "/golden/index.json"))) as! [String: Any]
            let dim = index["projection_dim"] as! Int
            let outputs = index["outputs"] as! [[String: Any]]
            func golden(_ kind: String) throws -> [[Float]] {
                let file = outputs.first { $0["of"] as? String == kind && $0["batch"] as? Int == 1 }!["file"] as! String
                let data = try Data(contentsOf: URL(fileURLWithPath: tiny + "/golden/" + file))
                let floats = data.withUnsafeBytes { raw in
                    (0..<(data.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
                }
                return stride(from: 0, to: floats.count, by: dim).map { row in
                    let v = Array(floats[row..<(row + dim)])
                    let n = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
                    return v.map { $0 / n }
                }
            }
            let strings = (index["texts"] as! [[String: Any]]).map { $0["text"] as! String }
            for (k, (text, v)) in zip(strings, try golden("texts")).enumerated() where !text.allSatisfy(\.isWhitespace) {
                keys.append("text/\(k)")
                inputs.append(.text(text))
                self.texts.append(text)
                self.vectors.append(v)
            }
            let images = index["images"] as! [String: Any]
            let root = Products.repoRoot + "/" + (images["root"] as! String)
            for (file, v) in zip((images["files"] as! [[String: Any]]).map { $0["file"] as! String }, try golden("images")) {
                let path = root + "/" + file
                let mime = file.hasSuffix(".png") ? "image/png" : file.hasSuffix(".webp") ? "image/webp" : "image/jpeg"
                keys.append("image/" + file)
                inputs.append(Input(.media(Media(data: try FileSystem.readFile(path, limit: 1 << 26), mimeType: mime))))
                self.vectors.append(v)
                self.texts.append(nil)
                files["image/" + file] = path
            }
        }

        /// Brute-force cosine scores of item `q` against every item.
        func scores(_ q: Int) -> [(key: String, score: Float)] {
            vectors.indices.map { j in (keys[j], zip(vectors[q], vectors[j]).reduce(0) { $0 + $1.0 * $1.1 }) }
                .sorted { $0.score > $1.score }
        }
    }

    @Test func everyStoredItemFindsTheBruteForceNeighbours() throws {
        let d = try Self.daemon()
        let c = try d.client()
        let ref = try Reference()
        #expect(ref.keys.filter { $0.hasPrefix("image/") }.count >= 15 && ref.keys.filter { $0.hasPrefix("text/") }.count >= 30)
        _ = try c.createCollection("mixed", model: "clip")
        let up = try c.upsert("mixed", zip(ref.keys, ref.inputs).map { UpsertItem(key: $0, value: .input($1)) })
        #expect(up.results.allSatisfy { $0.outcome == .stored }, "\(up.results.filter { $0.outcome != .stored })")
        let k = 5
        var checked = 0
        for q in ref.keys.indices {
            let hits = try c.search("mixed", [SearchQuery(.input(ref.inputs[q]))], k: k).results[0].hits
            let want = ref.scores(q)
            let score = Dictionary(want.map { ($0.key, $0.score) }, uniquingKeysWith: { a, _ in a })
            #expect(hits.count == k, "query \(ref.keys[q]): \(hits.count) hits")
            // Rank by rank, the hit's reference score is the reference's score at that rank:
            // near-ties (< 1e-3 apart) may come in either order, anything else is wrong.
            for (r, hit) in hits.enumerated() {
                let s = try #require(score[hit.key], "unknown key \(hit.key)")
                #expect(abs(s - want[r].score) < 1e-3,
                        "query \(ref.keys[q]) rank \(r): \(hit.key) (reference \(s)) where brute force has \(want[r].key) (\(want[r].score))")
            }
            checked += 1
        }
        #expect(checked == ref.keys.count)
        // Text finds pictures and a picture finds texts: both kinds show up among the answers.
        let mixed = try c.search("mixed", text: "a photo of a cat", k: ref.keys.count)
        #expect(mixed.contains { $0.key.hasPrefix("image/") } && mixed.contains { $0.key.hasPrefix("text/") })
    }

    @Test func embedctlSearchesPicturesByTextAndClassifies() throws {
        let d = try Self.daemon()
        let ref = try Reference()
        let pictures = ref.files.values.sorted()
        try FileManager.default.createDirectory(atPath: d.directory + "/pics", withIntermediateDirectories: true)
        for p in pictures { try FileSystem.copyFile(from: p, to: d.directory + "/pics/" + (p.split(separator: "/").last.map(String.init) ?? "")) }

        #expect(try d.ctl(["collection", "create", "photos", "--model", "clip"]).status == 0)
        let add = try d.ctl(["add", "photos", "--format", "json", "--file", d.directory + "/pics/*"])
        #expect(add.status == 0, "\(add.stderr)")
        let stored = (try jsonOutput(add) as? [String: Any])?["stored"] as? Int
        #expect(stored == pictures.count)
        let search = try d.ctl(["search", "photos", "--format", "json", "-k", "3", "a photo of a cat"])
        #expect(search.status == 0, "\(search.stderr)")
        let hits = ((try jsonOutput(search) as? [String: Any])?["results"] as? [[[String: Any]]])?.first ?? []
        // The reference ranking of the pictures for that sentence.
        let cat = try #require(ref.texts.firstIndex(of: "a photo of a cat"))
        let best = ref.scores(cat).filter { $0.key.hasPrefix("image/") }
        #expect(hits.count == 3)
        if let top = hits.first?["key"] as? String {
            let name = top.split(separator: "/").last.map(String.init) ?? top
            let refScore = best.first { $0.key == "image/" + name }?.score ?? -2
            #expect(abs(refScore - best[0].score) < 1e-3, "top hit \(top) (reference \(refScore)), brute force \(best[0])")
        }

        // A ResNet collection is another space: a CLIP query is refused, naming both.
        #expect(try d.ctl(["collection", "create", "resnet-photos", "--model", "resnet"]).status == 0)
        let refused = try d.ctl(["search", "resnet-photos", "--model", "clip", "a red car"])
        #expect(refused.status == 1 && refused.stderr.contains("space"), "\(refused.stderr)")

        // classify: softmax over 100 × cosine, against the reference vectors.
        let labels = ["a photo of a cat", "a photo of a dog", "a diagram of a coffee cup"]
        let picture = try #require(ref.keys.first { $0.hasPrefix("image/") && $0.hasSuffix("q75-444.jpg") })
        let r = try d.ctl(["classify", "-m", "clip", "--template", "{}", "--format", "json", ref.files[picture]!]
                          + labels.flatMap { ["--label", $0] })
        #expect(r.status == 0, "\(r.stderr)")
        let ranked = ((try jsonOutput(r) as? [[String: Any]])?.first?["labels"] as? [[String: Any]]) ?? []
        let p = ref.keys.firstIndex(of: picture)!
        let logits = labels.map { l -> Double in
            let t = ref.texts.firstIndex(of: l)!
            return 100 * Double(zip(ref.vectors[p], ref.vectors[t]).reduce(0) { $0 + $1.0 * $1.1 })
        }
        let top = logits.max()!
        let e = logits.map { Foundation.exp($0 - top) }
        let want = Dictionary(uniqueKeysWithValues: zip(labels, e.map { $0 / e.reduce(0, +) }))
        #expect(ranked.count == 3)
        for item in ranked {
            let label = item["label"] as? String ?? ""
            let prob = item["probability"] as? Double ?? -1
            #expect(abs(prob - (want[label] ?? 2)) < 2e-3, "\(label): \(prob), reference \(want[label] ?? -1)")
        }
        let probs = ranked.compactMap { $0["probability"] as? Double }
        #expect(probs == probs.sorted(by: >))
        let one = try d.ctl(["classify", "-m", "clip", ref.files[picture]!, "--label", "cat"])
        #expect(one.status == 2 && one.stderr.contains("at least two"), "\(one.stderr)")
    }
}
