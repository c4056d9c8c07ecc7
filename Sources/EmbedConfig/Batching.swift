/// The `batching:` section: how Embed calls are queued and coalesced per model.
public struct Batching: Sendable, Equatable {
    /// Most inputs handed to a plugin in one call (0 = the model's own preferred batch).
    public var maxBatch: Int = 0
    /// How long a worker waits for more calls to fill a batch (milliseconds; 0 = never wait).
    public var maxDelayMilliseconds: Double = 2
    /// Inputs waiting per model; beyond this calls are refused at once with RESOURCE_EXHAUSTED.
    public var queueDepth: Int = 4096
    /// Compute threads per model (calls into a model that is not concurrent are serialised anyway).
    public var threadsPerModel: Int = 1
    /// How many nice steps below the daemon's own priority a model's compute threads run
    /// (0 = the same). The event loop, health checks and load-shedding answers then get a core
    /// at once when a model saturates them.
    public var computeNice: Int = 5

    /// The defaults documented in etc/embedd/embedd.yaml.
    public init() {}
}
