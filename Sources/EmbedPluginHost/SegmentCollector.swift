import CEmbedABI

/// Receives the segments a plugin emits during one chunk of an embed call (ABI 1.1
/// `emit_segment`) and checks each: an index inside the chunk, finite times with
/// 0 ≤ start < end, segments of one input in time order, a finite vector (of unit length when
/// the model declares it). A bad segment fails its input (a plugin fault); more than
/// `limit` segments in one call makes `emit_segment` return `EMBEDD_ERR_RESOURCE`.
///
/// Invariant: touched only by the thread that runs the plugin's `embed` (the ABI asks plugins
/// to emit from that thread) and, after the call returned, by that same thread.
final class SegmentCollector: @unchecked Sendable {
    let dimension: Int
    let normalized: Bool
    let limit: Int
    private(set) var segments: [[TimeSegment]]
    private(set) var faults: [Int: String] = [:]
    private(set) var refused = false
    private var total = 0

    init(count: Int, dimension: Int, normalized: Bool, limit: Int) {
        self.dimension = dimension
        self.normalized = normalized
        self.limit = limit
        segments = Array(repeating: [], count: count)
    }

    /// The C callback the request carries; `context` is an unretained `SegmentCollector`.
    static let emit: @convention(c) (UnsafeMutableRawPointer?, UInt32, Double, Double, UnsafePointer<Float>?) -> Int32 = {
        context, index, start, end, vector in
        guard let context else { return Int32(EMBEDD_ERR_INTERNAL.rawValue) }
        return Unmanaged<SegmentCollector>.fromOpaque(context).takeUnretainedValue()
            .add(index: Int(index), start: start, end: end, vector: vector)
    }

    private func add(index: Int, start: Double, end: Double, vector: UnsafePointer<Float>?) -> Int32 {
        guard index >= 0, index < segments.count else {
            refused = true
            return Int32(EMBEDD_ERR_INTERNAL.rawValue)
        }
        guard faults[index] == nil else { return Int32(EMBEDD_OK.rawValue) }
        guard total < limit else {
            refused = true
            return Int32(EMBEDD_ERR_RESOURCE.rawValue)
        }
        guard let vector else {
            faults[index] = "plugin emitted a segment without a vector"
            return Int32(EMBEDD_OK.rawValue)
        }
        guard start.isFinite, end.isFinite, start >= 0, start < end else {
            faults[index] = "plugin emitted a segment with times [\(start), \(end))"
            return Int32(EMBEDD_OK.rawValue)
        }
        if let last = segments[index].last, start < last.start {
            faults[index] = "plugin emitted segments out of time order (\(start) s after \(last.start) s)"
            return Int32(EMBEDD_OK.rawValue)
        }
        let v = Array(UnsafeBufferPointer(start: vector, count: dimension))
        var sq: Double = 0
        for x in v {
            guard x.isFinite else {
                faults[index] = "plugin emitted a segment vector with a non-finite value"
                return Int32(EMBEDD_OK.rawValue)
            }
            sq += Double(x) * Double(x)
        }
        if normalized && abs(sq.squareRoot() - 1) > 1e-3 {
            faults[index] = "plugin emitted a segment vector of norm \(sq.squareRoot()) from a model that declares unit vectors"
            return Int32(EMBEDD_OK.rawValue)
        }
        segments[index].append(TimeSegment(start: start, end: end, vector: v))
        total += 1
        return Int32(EMBEDD_OK.rawValue)
    }
}
