/// How a recording is cut into the encoder's 30-s windows (issue 21, "Pooling"): consecutive
/// windows of `length` samples starting `length − overlap` apart, the last one ending at the
/// recording's end (so it may be shorter); a recording of at most one window is one window.
/// Each window is pooled over the encoder frames that cover its real samples:
/// `ceil(seconds × 50)` frames (one frame per 320 samples at 16 kHz), at most 1500.
struct AudioWindows {
    struct Window: Equatable {
        /// First sample and sample count, at 16 kHz.
        let start: Int
        let count: Int
    }

    let windows: [Window]

    init(samples n: Int, length: Int, overlap: Int) {
        precondition(length > 0 && overlap >= 0 && overlap < length)
        var list: [Window] = []
        var start = 0
        while true {
            let end = min(start + length, n)
            list.append(Window(start: start, count: end - start))
            if end >= n { break }
            start += length - overlap
        }
        windows = list
    }

    /// Encoder frames that cover `count` real samples: ceil(count / 320), between 1 and 1500.
    static func frames(samples count: Int, maxFrames: Int = 1500, samplesPerFrame: Int = 320) -> Int {
        min(maxFrames, max(1, (count + samplesPerFrame - 1) / samplesPerFrame))
    }
}
