import EmbedMedia
import EmbedSys
import EmbedVision

/// `image-prep-bench`: the embedd side of bench/image-prep — decoding (EmbedMedia) and
/// pre-processing (EmbedVision) of real picture files, the work the image plugin does before
/// the network, on one thread.
///
///     image-prep-bench --processor preprocessor_config.json --seconds 4 FILE...
///
/// Reads every file once into memory, then decodes and pre-processes them round-robin for
/// `--seconds`; prints one JSON line {"engine", "images", "img_per_s", "ms_per_img",
/// "decode_ms", "prep_ms"} (means per image).
enum ImagePrepBench {
    static func main() {
        var files: [String] = []
        var opts: [String: String] = [:]
        var args = Array(CommandLine.arguments.dropFirst())[...]
        while let a = args.popFirst() {
            if a.hasPrefix("--"), let v = args.popFirst() { opts[String(a.dropFirst(2))] = v } else { files.append(a) }
        }
        guard let config = opts["processor"], !files.isEmpty else { fail("usage: image-prep-bench --processor FILE [--seconds S] FILE...") }
        do {
            let processor = try ImageProcessor(configFile: config)
            guard let size = processor.fixedOutputSize else { fail("\(config): no fixed output size") }
            // Files that do not decode (skimage ships a truncated JPEG on purpose) are left out.
            let data = try files.map { try FileSystem.readFile($0, limit: 1 << 28) }.filter { (try? ImageDecoder.decode(bytes: $0)) != nil }
            guard !data.isEmpty else { fail("no decodable pictures") }
            let seconds = Double(opts["seconds"] ?? "4") ?? 4
            var out = [Float](repeating: 0, count: 3 * size.width * size.height)
            var decodeTime = 0.0, prepTime = 0.0, n = 0
            let start = now()
            while now() - start < seconds || n < data.count {
                let bytes = data[n % data.count]
                let t0 = now()
                let image = try ImageDecoder.decode(bytes: bytes)
                let t1 = now()
                try out.withUnsafeMutableBufferPointer { try processor.pixelValues(image, into: $0.baseAddress!) }
                prepTime += now() - t1
                decodeTime += t1 - t0
                n += 1
            }
            let total = decodeTime + prepTime
            print(#"{"engine": "embedd", "images": \#(n), "img_per_s": \#(Double(n) / total), "ms_per_img": \#(total / Double(n) * 1000), "decode_ms": \#(decodeTime / Double(n) * 1000), "prep_ms": \#(prepTime / Double(n) * 1000)}"#)
        } catch {
            fail("\(error)")
        }
    }

    static func now() -> Double { Double(Clock.monotonicNanoseconds()) * 1e-9 }

    static func print(_ s: String) { try? FileDescriptor.standardOutput.writeAll(Array((s + "\n").utf8)) }

    static func fail(_ message: String) -> Never {
        try? FileDescriptor.standardError.writeAll(Array("image-prep-bench: \(message)\n".utf8))
        Environment.exit(2)
    }
}
