import EmbedClient
import EmbedSys
import EmbedWire
import Foundation
import Testing

/// Images end to end (issue 19): the real daemon, the real image plugin and the tiny seeded
/// ResNet, driven by embedctl and the Swift client over the socket; and ≥ 1,000 mutated copies
/// of real pictures sent through the daemon, which must answer each with a vector or a clear
/// INVALID_ARGUMENT / OUT_OF_RANGE and keep serving.
@Suite(.serialized) struct ImageServingTests {
    static var imagePlugin: String { Products.directory + "/libembedd-image.so" }
    static let tiny = Products.repoRoot + "/Tests/Fixtures/image/resnet-tiny-bottleneck"
    static let media = Products.repoRoot + "/Tests/Fixtures/media"

    static func daemon(settings: String = "") throws -> RestartableDaemon {
        try RestartableDaemon(models: """
              - name: resnet
                plugin: \(imagePlugin)
                model_dir: \(tiny)
                options: { precision: fp32 }

            """ + TestDaemon.fixtureModel(), settings: settings)
    }

    /// A folder of pictures of several formats for `add --file 'DIR/*'`.
    static func pictures(in dir: String) throws -> [String] {
        let names = ["q90-420.jpg", "rgb.png", "lossy.webp", "grey.png", "cmyk.jpg", "exif6.jpg", "rgba.png", "palette.png"]
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var out: [String] = []
        for n in names where FileSystem.isRegularFile(media + "/" + n) {
            try FileSystem.copyFile(from: media + "/" + n, to: dir + "/" + n)
            out.append(n)
        }
        return out
    }

    @Test func embedAddAndSearchPicturesWithEmbedctl() throws {
        let d = try Self.daemon()
        let pics = try Self.pictures(in: d.directory + "/pics")
        #expect(pics.count >= 6)

        let embed = try d.ctl(["embed", "--model", "resnet", "--format", "json", "--file", d.directory + "/pics/q90-420.jpg"])
        #expect(embed.status == 0, "\(embed.stderr)")
        let doc = try #require(try jsonOutput(embed) as? [String: Any])
        #expect(doc["dim"] as? Int == 32 && (doc["vectors"] as? [[Double]])?.first?.count == 32)

        let create = try d.ctl(["collection", "create", "photos", "--model", "resnet"])
        #expect(create.status == 0, "\(create.stderr)")
        // Files go as descriptors (the daemon never opens client paths); the glob is embedctl's.
        let add = try d.ctl(["add", "photos", "--format", "json", "--file", d.directory + "/pics/*"])
        #expect(add.status == 0, "\(add.stderr)\(add.stdout)")
        #expect((try jsonOutput(add) as? [String: Any])?["stored"] as? Int == pics.count)

        // Each picture finds itself first.
        for name in ["rgb.png", "cmyk.jpg", "exif6.jpg"] {
            let search = try d.ctl(["search", "photos", "--format", "json", "-k", "5", "--file", d.directory + "/pics/" + name])
            #expect(search.status == 0, "\(search.stderr)")
            let hits = ((try jsonOutput(search) as? [String: Any])?["results"] as? [[[String: Any]]])?.first ?? []
            #expect(hits.count == 5 && (hits.first?["key"] as? String)?.hasSuffix(name) == true, "\(name): \(hits)")
        }

        // A text query on an image-only collection is refused, naming the problem.
        let text = try d.ctl(["search", "photos", "a red car"])
        #expect(text.status == 1 && text.stderr.contains("INVALID_ARGUMENT") && text.stderr.contains("resnet"), "\(text.stderr)")
    }

    @Test func clientPassesFilesAndRawPixels() throws {
        let d = try Self.daemon()
        let c = try d.client()
        let png = try FileSystem.readFile(Self.media + "/rgb.png", limit: 1 << 24)
        let rgb = try FileSystem.readFile(Self.media + "/rgb.png.rgb", limit: 1 << 24)
        let w = Int(png[16]) << 24 | Int(png[17]) << 16 | Int(png[18]) << 8 | Int(png[19])
        let h = Int(png[20]) << 24 | Int(png[21]) << 16 | Int(png[22]) << 8 | Int(png[23])
        let fd = try FileDescriptor.open(Self.media + "/rgb.png", [.readOnly])
        defer { try? fd.close() }
        let r = try c.embed(model: "resnet", inputs: [
            Input(.media(Media(data: png, mimeType: "image/png"))),
            Input(.pixels(Pixels(rgb8: rgb, width: UInt32(w), height: UInt32(h)))),
            Input(.file(FileRef(index: 0, mimeType: "image/png"))),
            Input(.file(FileRef(index: 0))),  // no type: sniffed from the content
        ], files: [fd])
        #expect(r.vectors.count == 4 && r.usage.isEmpty)
        for v in r.vectors.dropFirst() { #expect(v.values == r.vectors[0].values) }
        let (code, message) = callStatus { _ = try c.embed(model: "resnet", inputs: [.text("a photo of a cat")]) }
        #expect(code == .invalidArgument && message.contains("input 0"), "\(message)")
    }

    /// ≥ 1,000 randomly mutated copies of real pictures (bytes flipped, runs zeroed, cut short,
    /// headers scrambled) through the daemon: every answer is a vector or a clear per-input
    /// error, and the daemon stays up and correct.
    @Test func mutatedPicturesNeverHurtTheDaemon() throws {
        let d = try Self.daemon()
        let c = try d.client()
        let bases = try ["q90-420.jpg", "progressive.jpg", "rgb.png", "lossy.webp", "lossless-alpha.webp", "cmyk.jpg", "exif6.jpg", "grey16.png", "animated.webp", "palette.png"]
            .filter { FileSystem.isRegularFile(Self.media + "/" + $0) }
            .map { ($0, try FileSystem.readFile(Self.media + "/" + $0, limit: 1 << 24)) }
        let reference = try c.embed(model: "resnet", inputs: [Input(.media(Media(data: bases[0].1, mimeType: "image/jpeg")))]).vectors[0].values
        let seed = UInt64(Environment.get("EMBEDD_FUZZ_SEED") ?? "") ?? 0x1D06_2026
        var rng = FuzzRandom(seed: seed)
        var accepted = 0, refused = 0
        let total = max(1000, Int(Environment.get("EMBEDD_IMAGE_FUZZ") ?? "") ?? 0)
        var sent = 0
        while sent < total {
            var batch: [Input] = []
            for _ in 0..<8 {
                let (name, base) = bases[Int(rng.next() % UInt64(bases.count))]
                let b = FuzzRandom.mutated(base, &rng)
                batch.append(Input(.media(Media(data: b, mimeType: name.hasSuffix("png") ? "image/png" : name.hasSuffix("webp") ? "image/webp" : "image/jpeg"))))
            }
            // One call per picture so that one bad file does not hide the next one's answer.
            for input in batch {
                let (code, message) = callStatus { _ = try c.embed(model: "resnet", inputs: [input]) }
                switch code {
                case .ok: accepted += 1
                case .invalidArgument?, .outOfRange?:
                    #expect(message.hasPrefix("input 0: "), "seed \(seed): unclear error \(message)")
                    refused += 1
                default: Issue.record("seed \(seed): unexpected \(String(describing: code)): \(message)")
                }
                sent += 1
            }
        }
        print("image fuzz: \(sent) mutated pictures (seed \(seed)): \(accepted) embedded, \(refused) refused with a clear error")
        #expect(accepted + refused == sent && refused > 100)
        #expect(try c.embed(model: "resnet", inputs: [Input(.media(Media(data: bases[0].1, mimeType: "image/jpeg")))]).vectors[0].values == reference)
        #expect(d.process?.isRunning == true)
    }
}
