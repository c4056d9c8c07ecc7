import CFFmpeg

/// How a frame is turned for display, decided from its display matrix exactly as the ffmpeg
/// command line's autorotate decides it (FFmpeg 5.1's `configure_input_video_filter` and
/// `get_rotation`): the angle is rounded to a degree and normalised to [0, 360); near 90° a
/// `transpose=clock` (or `cclock_flip` when the matrix also mirrors), near 270° `cclock` (or
/// `clock_flip`), near 180° an `hflip` and/or `vflip` as the matrix's diagonal says, at 0° a
/// `vflip` for a matrix that only flips vertically. Any other angle is not turned here (the
/// command line would rotate by it with black corners; cameras write none).
enum Orientation: Equatable {
    /// vf_transpose's directions, with its numbering (`dir & 1`: read the source bottom up;
    /// `dir & 2`: write the result bottom up).
    enum Transpose: Int32 {
        case counterClockwiseFlip = 0, clockwise = 1, counterClockwise = 2, clockwiseFlip = 3
    }

    case none
    case transpose(Transpose)
    case flip(horizontal: Bool, vertical: Bool)

    /// The orientation a 3×3 display matrix (FFmpeg's 16.16 / 2.30 fixed point) asks for; `.none`
    /// without one.
    init(matrix: UnsafePointer<Int32>?) {
        var theta = 0.0
        if let matrix { theta = -av_display_rotation_get(matrix).rounded() }
        theta -= 360 * (theta / 360 + 0.9 / 360).rounded(.down)
        func m(_ i: Int) -> Int32 { matrix?[i] ?? 0 }
        if abs(theta - 90) < 1 {
            self = .transpose(m(3) > 0 ? .counterClockwiseFlip : .clockwise)
        } else if abs(theta - 180) < 1 {
            self = .flip(horizontal: m(0) < 0, vertical: m(4) < 0)
        } else if abs(theta - 270) < 1 {
            self = .transpose(m(3) < 0 ? .clockwiseFlip : .counterClockwise)
        } else if abs(theta) < 1, matrix != nil, m(4) < 0 {
            self = .flip(horizontal: false, vertical: true)
        } else {
            self = .none  // upright, an odd angle, or a degenerate matrix (NaN angle)
        }
    }

    /// The stream's display matrix (`AV_PKT_DATA_DISPLAYMATRIX` side data), if it has a whole one.
    static func matrix(of stream: UnsafePointer<AVStream>) -> UnsafePointer<Int32>? {
        var size = 0
        guard let data = av_stream_get_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, &size), size >= 36 else { return nil }
        return UnsafeRawPointer(data).assumingMemoryBound(to: Int32.self)
    }

    /// A frame's own display matrix (an H.264 display-orientation message), if it has a whole one.
    static func matrix(of frame: UnsafePointer<AVFrame>) -> UnsafePointer<Int32>? {
        guard let side = av_frame_get_side_data(frame, AV_FRAME_DATA_DISPLAYMATRIX), side.pointee.size >= 36,
              let data = side.pointee.data else { return nil }
        return UnsafeRawPointer(data).assumingMemoryBound(to: Int32.self)
    }

    /// Whether width and height trade places.
    var swapsSides: Bool {
        if case .transpose = self { return true }
        return false
    }

    /// The clockwise rotation shown, in degrees (a mirror image counts as its rotation).
    var degrees: Int {
        switch self {
        case .none: return 0
        case .transpose(let t): return t == .clockwise || t == .counterClockwiseFlip ? 90 : 270
        case .flip(let h, let v): return h && v ? 180 : 0
        }
    }
}
