/// What EmbedAV lets near hostile bytes: the FFmpeg demuxers and decoders it opens (everything
/// else FFmpeg could open is refused before its code runs on the input), and the MIME types each
/// container goes by.
///
/// Containers: WAV (RIFF, RF64), FLAC, Ogg, MP3 (MPEG audio layers 1-3), MP4/M4A/MOV/3GP, AIFF,
/// Matroska/WebM (browsers record audio/webm with Opus) and raw ADTS AAC; and, for the sound
/// track of a video, AVI, MPEG-TS, FLV and MPEG program streams (`VideoFormats` lists the same
/// video containers). Codecs: integer and float PCM, A-law and µ-law (telephone WAVs), FLAC,
/// Vorbis, Opus, MPEG audio layers 1-3, AAC, ALAC, and AC-3/E-AC-3 (broadcast and film sound
/// tracks), each through FFmpeg's native decoder (never an external library's). All of them are
/// among the most-fuzzed code in FFmpeg (OSS-Fuzz). Left out on purpose: network and playlist
/// formats (HLS, DASH, concat, SDP: they open other URLs), image and subtitle formats, and the
/// long tail of game and legacy codecs.
enum AudioFormats {
    struct Container: Equatable {
        /// The first name in FFmpeg's demuxer name ("mov" of "mov,mp4,m4a,3gp,3g2,mj2").
        let demuxer: String
        /// What messages and `DecodedAudio.container` call it.
        let label: String
    }

    static let containers: [Container] = [
        Container(demuxer: "wav", label: "WAV"),
        Container(demuxer: "flac", label: "FLAC"),
        Container(demuxer: "ogg", label: "Ogg"),
        Container(demuxer: "mp3", label: "MP3"),
        Container(demuxer: "mov", label: "MP4"),
        Container(demuxer: "aiff", label: "AIFF"),
        Container(demuxer: "matroska", label: "Matroska"),
        Container(demuxer: "aac", label: "AAC"),
        Container(demuxer: "avi", label: "AVI"),
        Container(demuxer: "mpegts", label: "MPEG-TS"),
        Container(demuxer: "flv", label: "FLV"),
        Container(demuxer: "mpeg", label: "MPEG-PS"),
    ]

    /// `AVFormatContext.format_whitelist`: FFmpeg matches any name of a demuxer against it.
    static let demuxerWhitelist = containers.map(\.demuxer).joined(separator: ",")

    /// FFmpeg's decoder names (`AVCodec.name`), for `codec_whitelist` and the stream check.
    /// `avcodec_find_decoder` picks the native decoder of each codec (mp3float, aac, opus,
    /// vorbis), as the ffmpeg command line does; the fixed-point twins are listed so a caller
    /// choosing them would not be refused.
    static let decoders: Set<String> = [
        "pcm_u8", "pcm_s8", "pcm_s16le", "pcm_s16be", "pcm_s24le", "pcm_s24be", "pcm_s32le", "pcm_s32be",
        "pcm_f32le", "pcm_f32be", "pcm_f64le", "pcm_f64be", "pcm_alaw", "pcm_mulaw",
        "flac", "vorbis", "opus", "mp3float", "mp3", "mp2float", "mp2", "mp1float", "mp1",
        "aac", "aac_fixed", "alac", "ac3", "ac3_fixed", "eac3",
    ]
    static let decoderWhitelist = decoders.sorted().joined(separator: ",")

    static let supportedList = "WAV, FLAC, Ogg (Vorbis, Opus, FLAC), MP3, MP4/M4A (AAC, ALAC), AIFF, WebM/Matroska, ADTS AAC and the sound of AVI, MPEG-TS, FLV and MPEG-PS videos"
    static let codecList = "PCM (8-64 bit, A-law, µ-law), FLAC, Vorbis, Opus, MP1/MP2/MP3, AAC, ALAC and AC-3/E-AC-3"

    /// The container FFmpeg's demuxer `name` belongs to, if EmbedAV opens it.
    static func container(demuxer name: String) -> Container? {
        let first = name.split(separator: ",").first.map(String.init) ?? name
        return containers.first { $0.demuxer == first }
    }

    /// Declared types naming one of the containers (a type may fit more than one: browsers and
    /// phones label M4A files audio/aac, and Opus lives in Ogg and WebM alike).
    static let containersByMIME: [String: Set<String>] = {
        var table: [String: Set<String>] = [:]
        func add(_ labels: Set<String>, _ types: [String]) { for t in types { table[t, default: []].formUnion(labels) } }
        add(["WAV"], ["audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave", "audio/x-pn-wav"])
        add(["FLAC"], ["audio/flac", "audio/x-flac"])
        add(["Ogg"], ["audio/ogg", "application/ogg", "audio/vorbis", "audio/x-vorbis+ogg", "audio/x-opus+ogg",
                      "audio/x-flac+ogg", "audio/x-ogg", "video/ogg"])
        add(["Ogg", "Matroska"], ["audio/opus"])
        add(["MP3"], ["audio/mpeg", "audio/mp3", "audio/x-mp3", "audio/mpeg3", "audio/x-mpeg", "audio/x-mpeg-3", "audio/mpa"])
        add(["MP4"], ["audio/mp4", "audio/m4a", "audio/x-m4a", "audio/x-mp4", "video/mp4", "video/quicktime",
                      "audio/3gpp", "video/3gpp", "audio/3gpp2", "video/3gpp2", "video/x-m4v"])
        add(["AAC", "MP4"], ["audio/aac", "audio/x-aac", "audio/aacp", "audio/x-hx-aac-adts"])
        add(["AIFF"], ["audio/aiff", "audio/x-aiff"])
        add(["Matroska"], ["audio/webm", "video/webm", "audio/x-matroska", "video/x-matroska"])
        for (label, types) in VideoFormats.videoMIME { add([label], types) }
        return table
    }()

    /// Types that say nothing about the format.
    static let genericMIME: Set<String> = ["", "application/octet-stream", "binary/octet-stream", "audio/*", "video/*"]

    /// Refuses bytes of `found` declared as another container. Generic types and unknown
    /// audio/ and video/ subtypes pass (a hint that cannot be judged); a known type of another
    /// container, or a type of another kind (image/png, text/plain), is a mislabelled file.
    static func check(declared: String?, found: Container) throws(AudioError) {
        guard let declared else { return }
        let type = normalise(declared)
        if genericMIME.contains(type) { return }
        if let labels = containersByMIME[type] {
            guard labels.contains(found.label) else { throw .mislabelled(declared: declared, found: found.label) }
            return
        }
        if type.hasPrefix("audio/") || type.hasPrefix("video/") { return }
        throw .mislabelled(declared: declared, found: found.label)
    }

    /// "Audio/WAV; codecs=1" → "audio/wav".
    static func normalise(_ mime: String) -> String {
        let base = mime.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        return String(base.filter { $0 != " " && $0 != "\t" }).lowercased()
    }
}
