/// Mono samples at their source rate in, samples at the target rate out, with the duration limit
/// enforced before each block is taken: decoding stops as soon as the audio passes it, whatever
/// the header said. A change of source rate mid-stream (chained Ogg streams) drains the
/// resampler and starts another at the new rate, as the ffmpeg command line re-configures its
/// filters.
struct MonoPipeline: ~Copyable {
    private(set) var output: [Float] = []
    private var resampler: SoxrResampler? = nil
    private var rate = 0
    private var samplesAtRate = 0
    private var secondsBefore: Double = 0
    private let targetRate: Int
    private let maxSeconds: Double

    /// `expectedSeconds` (a header's duration, already checked against the limit) sizes the output once.
    init(targetRate: Int, maxSeconds: Double, expectedSeconds: Double? = nil) {
        self.targetRate = targetRate
        self.maxSeconds = maxSeconds
        if let expectedSeconds, expectedSeconds <= maxSeconds {
            output.reserveCapacity(Int(expectedSeconds * Double(targetRate)) + 4_096)
        }
    }

    /// Source seconds taken so far.
    var seconds: Double { secondsBefore + (rate > 0 ? Double(samplesAtRate) / Double(rate) : 0) }

    mutating func append(_ mono: UnsafeBufferPointer<Float>, rate newRate: Int) throws(AudioError) {
        guard !mono.isEmpty else { return }
        if newRate != rate {
            if let resampler { try resampler.flush(into: &output) }
            secondsBefore = seconds
            samplesAtRate = 0
            rate = newRate
            resampler = newRate == targetRate ? nil : try SoxrResampler(from: newRate, to: targetRate)
        }
        let after = secondsBefore + Double(samplesAtRate + mono.count) / Double(rate)
        guard after <= maxSeconds else { throw .tooLong(seconds: after, limit: maxSeconds, declared: false) }
        samplesAtRate += mono.count
        if let resampler {
            try resampler.push(mono, into: &output)
        } else {
            output.append(contentsOf: mono)
        }
    }

    /// The samples at the target rate, the resampler drained; the pipeline is empty after.
    mutating func finish() throws(AudioError) -> [Float] {
        if let resampler { try resampler.flush(into: &output) }
        resampler = nil
        defer { output = [] }
        return output
    }
}
