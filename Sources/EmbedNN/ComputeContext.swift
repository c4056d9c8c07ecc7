import CDNNL

/// A oneDNN CPU engine and stream for one model, used from that model's single compute thread.
///
/// oneDNN's CPU runtime is OpenMP: a primitive runs on the calling thread's OpenMP team, so each
/// model computes on one thread (no concurrent calls) and sets its thread count on it.
public final class ComputeContext: @unchecked Sendable {
    // Invariant: `engine` and `stream` are created once and only used by one thread at a time
    // (the model serialises calls); they are destroyed in deinit after every primitive holding
    // them is gone (primitives are owned by layers, which the model releases first).
    let engine: dnnl_engine_t
    let stream: dnnl_stream_t
    /// OpenMP threads for this model's primitives (0: the runtime's default).
    public let threads: Int
    /// Where this model's packed weights live (huge pages).
    let weightArena = WeightArena()

    /// Creates the engine and stream.
    public init(threads: Int) throws(NNError) {
        var e: dnnl_engine_t? = nil
        try DNNL.check(dnnl_engine_create(&e, dnnl_cpu, 0), "engine_create")
        var s: dnnl_stream_t? = nil
        let status = dnnl_stream_create(&s, e, dnnl_stream_default_flags.rawValue)
        if status != dnnl_success { dnnl_engine_destroy(e) }
        try DNNL.check(status, "stream_create")
        engine = e!
        stream = s!
        self.threads = threads
    }

    /// Applies the thread count to the calling thread (OpenMP's ICV is per thread); call it
    /// at the start of every compute entry point.
    public func enterComputeThread() {
        if threads > 0 && omp_get_max_threads() != Int32(threads) {
            omp_set_num_threads(Int32(threads))
        }
    }

    /// The OpenMP thread count primitives will use from the calling thread.
    public static var currentThreadCount: Int { Int(omp_get_max_threads()) }

    deinit {
        dnnl_stream_destroy(stream)
        dnnl_engine_destroy(engine)
    }
}
