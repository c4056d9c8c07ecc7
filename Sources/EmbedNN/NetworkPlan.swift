import CDNNL

/// A network's forward pass compiled for one input shape: its primitives in order, each bound
/// to plan slots, and the bytes each activation buffer must hold.
///
/// oneDNN's convolutions are specialised to the batch and spatial size (creating one costs
/// 0.3–0.5 ms, DESIGN §4), so a model keeps a small cache of plans keyed by shape.
final class NetworkPlan {
    // Invariant: run by the owning model's compute thread only.
    private let steps: [PlanStep]
    /// Bytes needed in each `PlanBuffers` buffer.
    let bufferBytes: [Int]

    init(steps: [PlanStep], bufferBytes: [Int]) {
        self.steps = steps
        self.bufferBytes = bufferBytes
    }

    /// Runs the pass from `input` to `output` in `buffers`; `cancelled` is polled between steps.
    func run(input: UnsafeRawPointer, output: UnsafeMutableRawPointer, buffers: PlanBuffers,
             stream: dnnl_stream_t, cancelled: () -> Bool) throws {
        buffers.reserve(bufferBytes)
        let address = { (slot: PlanSlot) -> UnsafeMutableRawPointer in
            switch slot {
            case .input: return UnsafeMutableRawPointer(mutating: input)
            case .output: return output
            case .buffer(let i): return buffers[i]
            }
        }
        for (i, step) in steps.enumerated() {
            if i % 8 == 7, cancelled() { throw TransformerEncoder.Cancelled() }
            step.bind(address)
            try step.execute(stream, "network step \(i)")
        }
        try DNNL.check(dnnl_stream_wait(stream), "stream_wait")
    }

    /// Collects steps in order and sizes each buffer for the largest tensor placed in it.
    struct Builder {
        private(set) var steps: [PlanStep] = []
        private var bytes: [Int]

        init(buffers: Int) { bytes = [Int](repeating: 0, count: buffers) }

        /// Appends a step and returns the tensor it produces.
        mutating func add(_ result: (PlanStep, FeatureMap)) -> FeatureMap {
            steps.append(result.0)
            if case .buffer(let i) = result.1.slot { bytes[i] = max(bytes[i], result.1.byteCount) }
            return result.1
        }

        func plan() -> NetworkPlan { NetworkPlan(steps: steps, bufferBytes: bytes) }
    }
}
