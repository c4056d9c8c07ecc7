import CEmbedABI
import EmbedPluginKit

// The video plugin: a video becomes one vector in its frames model's space — the mean of the
// normalised vectors of frames sampled from it, normalised again — and, on request, one vector
// per time window (ABI 1.1 segments). It holds no weights: the frames go to the CLIP model
// already loaded in the daemon through the host's `embed_with` (ABI 1.1 composition), so a
// collection bound to CLIP takes videos beside pictures and texts. Demuxing, decoding and the
// RGB conversion are EmbedAV's (FFmpeg), reading the client's open file (ABI 1.1 FD input) so
// an hour of video is never copied. Only `embedd_plugin_entry` is exported.

/// The static descriptor; built once, never freed (the ABI says descriptors are static).
nonisolated(unsafe) private let descriptor = PluginDescriptor.make(for: VideoEmbedPlugin.self)

/// The one exported symbol: returns the static descriptor.
@_cdecl("embedd_plugin_entry")
public func embedd_plugin_entry() -> UnsafePointer<embedd_plugin_descriptor> { descriptor }

/// The plugin lifetime (`init` … `finalize`): the host's services, and loading models.
final class VideoEmbedPlugin: EmbedPlugin {
    static let name = "video"
    static let version = "1.0.0"
    static let summary = "Videos (MP4, MKV, WebM, AVI, MOV …; H.264, H.265, VP8/9, AV1, MPEG-4, MJPEG) embedded from sampled frames by a loaded CLIP model"

    let host: PluginHost

    init(host: PluginHost) throws(PluginError) {
        guard host.composes else {
            throw PluginError(EMBEDD_ERR_RESOURCE, "the video plugin needs a host with ABI 1.1 composition (embed_with); this host offers ABI \(host.api.abi_major).\(host.api.abi_minor) without it")
        }
        self.host = host
    }

    func loadModel(directory: String, options: [(key: String, value: String)]) throws(PluginError) -> VideoModel {
        let parsed: VideoOptions
        do { parsed = try VideoOptions(options) } catch { throw PluginError(EMBEDD_ERR_OPTIONS, error.message) }
        guard let frames = host.model(named: parsed.framesModel) else {
            throw PluginError(EMBEDD_ERR_MODEL, "frames_model '\(parsed.framesModel)' is not loaded: configure it (a CLIP model) and load it before this video model")
        }
        guard frames.accepts(EMBEDD_INPUT_RGB8) else {
            throw PluginError(EMBEDD_ERR_MODEL, "frames_model '\(parsed.framesModel)' does not take RGB pixels (it is not an image model)")
        }
        if let audio = parsed.audioModel {
            guard let a = host.model(named: audio) else {
                throw PluginError(EMBEDD_ERR_MODEL, "audio_model '\(audio)' is not loaded: configure it (a Whisper model) and load it before this video model")
            }
            guard a.accepts(EMBEDD_INPUT_ENCODED) || a.accepts(EMBEDD_INPUT_FD) else {
                throw PluginError(EMBEDD_ERR_MODEL, "audio_model '\(audio)' does not take encoded media (it is not an audio model)")
            }
        }
        let model = VideoModel(host: host, frames: frames, options: parsed)
        host.log(EMBEDD_LOG_INFO, "video: frames through '\(frames.name)' (dim \(frames.dimension), space \(frames.embeddingSpace)), sampling \(parsed.samplingName), segments of \(parsed.segmentSeconds) s\(parsed.audioModel.map { ", sound through '\($0)'" } ?? "")")
        return model
    }
}
