import EmbedSys
@testable import EmbedVision
import Testing

/// Malformed `preprocessor_config.json` files: each error names the file and the problem.
struct ConfigErrorTests {
    private static let resnet = #"{"crop_pct": 0.875, "do_normalize": true, "do_resize": true, "feature_extractor_type": "ConvNextFeatureExtractor", "image_mean": [0.485, 0.456, 0.406], "image_std": [0.229, 0.224, 0.225], "resample": 3, "size": 224}"#

    private func error(_ json: String, modelType: String? = nil) -> String? {
        do {
            _ = try ImageProcessor(configJSON: Array(json.utf8), name: "/m/preprocessor_config.json", modelType: modelType)
            return nil
        } catch {
            return error.message
        }
    }

    @Test(arguments: [
        (#"{"size": 224,"#, "invalid JSON at line 1"),
        ("[1, 2]", "expected a JSON object"),
        (resnet.replacingFirst(#""resample": 3"#, #""resample": 7"#), "resample: unknown Pillow filter 7"),
        (resnet.replacingFirst(#""resample": 3"#, #""resample": "bicubic""#), "resample: expected an integer"),
        (resnet.replacingFirst("[0.485, 0.456, 0.406]", "[0.485, 0.456]"), "image_mean: expected 3 numbers"),
        (resnet.replacingFirst("[0.485, 0.456, 0.406]", #""imagenet""#), "image_mean: expected a number or 3 numbers"),
        (resnet.replacingFirst("[0.229, 0.224, 0.225]", "[0.229, 0, 0.225]"), "image_std: a standard deviation of 0"),
        (resnet.replacingFirst(#""size": 224"#, #""size": {"longest_edge": 224}"#), "size: unsupported keys [\"longest_edge\"]"),
        (resnet.replacingFirst(#""size": 224"#, #""size": -3"#), "size: the size must be a positive integer"),
        (resnet.replacingFirst(#""size": 224"#, #""size": {"height": 224, "width": 224}"#), "size: ConvNextImageProcessor needs"),
        (resnet.replacingFirst(#""do_resize": true"#, #""do_resize": "yes""#), "do_resize: expected true or false"),
        (resnet.replacingFirst("ConvNextFeatureExtractor", "ViTImageProcessor"), "unsupported image processor \"ViTImageProcessor\""),
        (resnet.replacingFirst(#""feature_extractor_type": "ConvNextFeatureExtractor", "#, ""), "names no image_processor_type"),
        (resnet.replacingFirst(#""crop_pct": 0.875"#, #""crop_pct": 0"#), "crop_pct: must be positive"),
        (resnet.replacingFirst(#""do_resize": true"#, #""do_resize": true, "do_pad": true"#), "do_pad: padding is not supported"),
        (resnet.replacingFirst(#""do_resize": true"#, #""do_center_crop": true"#), "do_center_crop is true but crop_size is missing"),
    ])
    func malformed(_ json: String, problem: String) {
        let message = error(json)
        #expect(message?.hasPrefix("/m/preprocessor_config.json: ") == true, "\(message ?? "no error")")
        #expect(message?.contains(problem) == true, "\(message ?? "no error") should say \(problem)")
    }

    @Test func unreadableFileIsNamed() {
        #expect(throws: VisionError.self) { try ImageProcessor(configFile: "/nonexistent/preprocessor_config.json") }
        do { _ = try ImageProcessor(configFile: "/nonexistent/preprocessor_config.json") } catch {
            #expect(error.message.hasPrefix("/nonexistent/preprocessor_config.json: cannot read"))
        }
    }

    /// transformers takes a missing or null field from the class defaults and ignores fields the
    /// class does not read; so does EmbedVision (listing them in ignoredFields).
    @Test func defaultsAndIgnoredFields() throws {
        let p = try ImageProcessor(configJSON: Array(#"{"image_processor_type": "ConvNextImageProcessor", "image_mean": null, "do_thumbnail": true}"#.utf8),
                                   name: "x")
        #expect(p.config.imageMean == [0.5, 0.5, 0.5] && p.config.size == .shortestEdge(384))
        #expect(p.config.ignoredFields == ["do_thumbnail"])
        #expect(p.fixedOutputSize! == (384, 384))
        let clip = try ImageProcessor(configJSON: Array("{}".utf8), name: "x", modelType: "clip")
        #expect(clip.config.kind == .clip && clip.config.cropSize! == (224, 224) && clip.config.doCenterCrop)
        let resnet = try ImageProcessor(configJSON: Array(Self.resnet.utf8), name: "x")
        #expect(resnet.config.kind == .convNext && resnet.config.size == .shortestEdge(224) && resnet.config.resample == .bicubic)
        #expect(resnet.fixedOutputSize! == (224, 224))
    }
}

extension String {
    /// The string with the first occurrence of `a` replaced by `b` (no Foundation in these tests).
    func replacingFirst(_ a: String, _ b: String) -> String {
        let s = Array(self.utf8), p = Array(a.utf8)
        guard p.count <= s.count else { return self }
        for i in 0...(s.count - p.count) where Array(s[i..<(i + p.count)]) == p {
            return String(decoding: s[..<i] + Array(b.utf8) + s[(i + p.count)...], as: UTF8.self)
        }
        return self
    }
}
