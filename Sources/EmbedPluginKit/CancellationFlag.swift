import CEmbedABI

/// The host's cancellation word for one call (may be absent).
///
/// Sendable: it only ever reads the word with an atomic load, and the host keeps the word
/// valid for the whole call, which outlives any work the plugin hands to its own threads.
package struct CancellationFlag: @unchecked Sendable {
    private let flag: UnsafePointer<UInt32>?

    package init(_ flag: UnsafePointer<UInt32>?) { self.flag = flag }

    /// The word itself, to pass on in a request to another model (`PluginHost.embed(with:)`).
    package var word: UnsafePointer<UInt32>? { flag }

    /// Whether the host asked the call to stop (`embedd_cancel_requested`: atomic, relaxed).
    package var isRequested: Bool { embedd_cancel_requested(flag) != 0 }
}
