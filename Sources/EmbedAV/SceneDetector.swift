import CFFmpeg

/// The scene score of `FrameSampling.scenes` for each decoded frame in turn: the frame's luma
/// reduced to 64 × 64 by libswscale's area average (GRAY8, so every pixel format and depth
/// compares alike), its mean absolute difference from the previous frame's (MAFD, in percent of
/// 255), and FFmpeg's scene score `min(MAFD, |MAFD − previous MAFD|) / 100`, clipped to 0...1,
/// as its `scdet` and `select` filters compute it. The first frame scores 0.
///
/// Owns its swscale context; used by one thread.
final class SceneDetector {
    static let side: Int32 = 64
    private var context: OpaquePointer? = nil
    private var key: (Int32, Int32, Int32)? = nil
    /// The reduced luma of this frame and of the one before (swapped after each frame).
    private var current = [UInt8](repeating: 0, count: Int(side * side))
    private var previous = [UInt8](repeating: 0, count: Int(side * side))
    private var hasPrevious = false
    private var previousMAFD = 0.0

    deinit { sws_freeContext(context) }

    /// The frame's score, or nil when swscale cannot reduce it (the frame is then skipped).
    func score(_ frame: UnsafePointer<AVFrame>) -> Double? {
        let f = frame.pointee
        if key == nil || key! != (f.width, f.height, f.format) {
            sws_freeContext(context)
            context = sws_getContext(f.width, f.height, AVPixelFormat(f.format), Self.side, Self.side, AV_PIX_FMT_GRAY8,
                                     SWS_AREA, nil, nil, nil)
            key = context == nil ? nil : (f.width, f.height, f.format)
            hasPrevious = false  // a new size starts over: no comparison across it
        }
        guard let context else { return nil }
        let side = Int(Self.side)
        let scaled = current.withUnsafeMutableBufferPointer { out -> Int32 in
            let planes: [UnsafeMutablePointer<UInt8>?] = [out.baseAddress, nil, nil, nil]
            let lines: [Int32] = [Self.side, 0, 0, 0]
            let sources: [UnsafePointer<UInt8>?] = [UnsafePointer(f.data.0), UnsafePointer(f.data.1), UnsafePointer(f.data.2),
                                                    UnsafePointer(f.data.3)]
            let strides = [f.linesize.0, f.linesize.1, f.linesize.2, f.linesize.3]
            return sws_scale(context, sources, strides, 0, f.height, planes, lines)
        }
        guard scaled > 0 else { return nil }
        defer {
            swap(&current, &previous)
            hasPrevious = true
        }
        guard hasPrevious else {
            previousMAFD = 0
            return 0
        }
        var sad = 0
        for i in 0..<(side * side) { sad += abs(Int(current[i]) - Int(previous[i])) }
        let mafd = Double(sad) * 100 / Double(side * side) / 255
        let diff = abs(mafd - previousMAFD)
        previousMAFD = mafd
        return min(max(min(mafd, diff) / 100, 0), 1)
    }

    /// Forgets the previous frame (after a seek).
    func reset() {
        hasPrevious = false
        previousMAFD = 0
    }
}
