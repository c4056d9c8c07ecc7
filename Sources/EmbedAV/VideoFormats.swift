/// What EmbedAV lets near hostile video: the FFmpeg demuxers and video decoders `VideoReader`
/// opens (everything else FFmpeg could open is refused before its code runs on the input), and
/// the MIME types each container goes by.
///
/// Containers: MP4/MOV/M4V/3GP, Matroska/WebM, AVI, MPEG-TS, MPEG program streams (.mpg, VOB),
/// FLV and Ogg. Codecs: H.264, H.265/HEVC, VP8, VP9, AV1 (through libdav1d, else libaom: FFmpeg
/// 5.1's own AV1 decoder needs hardware), MPEG-4 part 2, MPEG-1/2, Theora and MJPEG, each the
/// decoder `avcodec_find_decoder` picks, as the ffmpeg command line does. Left out: ASF/WMV
/// (Windows Media's codecs are not on the list, so an ASF file would only ever fail later), RealMedia,
/// network and playlist formats (HLS, DASH, concat: they open other URLs), image sequences, and the
/// long tail of legacy codecs. The audio decoders (`AudioFormats`) are allowed too while the
/// streams are probed, as the ffmpeg command line probes every stream: a sound track's first
/// timestamp moves the container's start time, the origin of every frame time.
enum VideoFormats {
    /// FFmpeg's first demuxer name and what messages and `VideoInfo.container` call it.
    static let containers: [(demuxer: String, label: String)] = [
        ("mov", "MP4"), ("matroska", "Matroska"), ("avi", "AVI"), ("mpegts", "MPEG-TS"),
        ("mpeg", "MPEG-PS"), ("flv", "FLV"), ("ogg", "Ogg"),
    ]

    /// `AVFormatContext.format_whitelist`.
    static let demuxerWhitelist = containers.map(\.demuxer).joined(separator: ",")

    /// FFmpeg's video decoder names (`AVCodec.name`).
    static let decoders: Set<String> = [
        "h264", "hevc", "vp8", "vp9", "libdav1d", "libaom-av1", "mpeg4", "mpeg1video", "mpeg2video", "theora", "mjpeg",
    ]
    /// The codec whitelist while probing: the video decoders and the audio ones.
    static let decoderWhitelist = (decoders.union(AudioFormats.decoders)).sorted().joined(separator: ",")

    static let supportedList = "MP4/MOV, Matroska/WebM, AVI, MPEG-TS, MPEG-PS, FLV and Ogg"
    static let codecList = "H.264, H.265, VP8, VP9, AV1, MPEG-4 part 2, MPEG-1/2, Theora and MJPEG"

    /// The label of FFmpeg's demuxer `name`, if EmbedAV opens it.
    static func label(demuxer name: String) -> String? {
        containers.first { $0.demuxer == name }?.label
    }

    /// Declared types of the containers that only video uses (the audio table adds them, so the
    /// sound track of such a file decodes too).
    static let videoMIME: [(label: String, types: [String])] = [
        ("AVI", ["video/x-msvideo", "video/avi", "video/msvideo", "video/vnd.avi"]),
        ("MPEG-TS", ["video/mp2t", "video/vnd.dlna.mpeg-tts"]),
        ("MPEG-PS", ["video/mpeg", "video/x-mpeg", "video/mpg", "video/x-mpeg2"]),
        ("FLV", ["video/x-flv", "video/flv"]),
    ]

    /// Declared types naming one of the containers.
    static let containersByMIME: [String: Set<String>] = {
        var table: [String: Set<String>] = [:]
        func add(_ labels: Set<String>, _ types: [String]) { for t in types { table[t, default: []].formUnion(labels) } }
        add(["MP4"], ["video/mp4", "video/quicktime", "video/x-m4v", "video/3gpp", "video/3gpp2", "application/mp4",
                      "video/x-quicktime"])
        add(["Matroska"], ["video/webm", "video/x-matroska", "video/matroska", "video/mkv"])
        add(["Ogg"], ["video/ogg", "application/ogg", "video/x-theora+ogg", "video/x-ogg"])
        for (label, types) in videoMIME { add([label], types) }
        return table
    }()

    /// Refuses bytes of container `found` declared as another one. Generic types (and unknown
    /// video/ subtypes) pass; a known type of another container, or a type of another kind
    /// (image/png, audio/mpeg), is a mislabelled file.
    static func check(declared: String?, found: String) throws(VideoError) {
        guard let declared else { return }
        let type = AudioFormats.normalise(declared)
        if AudioFormats.genericMIME.contains(type) { return }
        if let labels = containersByMIME[type] {
            guard labels.contains(found) else { throw .mislabelled(declared: declared, found: found) }
            return
        }
        if type.hasPrefix("video/") { return }
        throw .mislabelled(declared: declared, found: found)
    }
}
