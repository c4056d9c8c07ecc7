import CEmbedABI

/// One `embed` call's request seen from a plugin: the inputs, the host-allocated output rows,
/// per-input statuses and the cancellation flag. A view over host memory valid only during
/// the call; it allocates nothing.
package struct EmbedBatch {
    /// The number of inputs (≥ 1; ≤ the model's `max_batch`).
    package let count: Int
    /// The inputs, input *i* at index *i*.
    package let inputs: UnsafeBufferPointer<embedd_input>
    /// `count × dim` floats, row *i* for input *i*, zeroed by the host.
    package let output: UnsafeMutablePointer<Float>
    /// The flag the host raises from another thread to stop the call early.
    package let cancellation: CancellationFlag
    private let statuses: UnsafeMutablePointer<embedd_input_status>
    /// ABI 1.1: per-input token counts, nil when the host did not ask for them (a 1.0 host,
    /// or a request whose `struct_size` stops before `usage`).
    private let usage: UnsafeMutablePointer<embedd_input_usage>?
    /// ABI 1.1: where per-segment vectors go, nil when the host wants only summaries.
    private let segmentSink: (emit: @convention(c) (UnsafeMutableRawPointer?, UInt32, Double, Double, UnsafePointer<Float>?) -> Int32,
                              context: UnsafeMutableRawPointer?)?

    /// Nil when the request has no inputs or a NULL buffer (the kit fails such a call whole).
    init?(_ r: embedd_embed_request) {
        guard r.count > 0, let inputs = r.inputs, let output = r.output, let statuses = r.statuses else { return nil }
        count = Int(r.count)
        self.inputs = UnsafeBufferPointer(start: inputs, count: count)
        self.output = output
        self.statuses = statuses
        cancellation = CancellationFlag(r.cancel)
        let usageEnd = MemoryLayout<embedd_embed_request>.offset(of: \.usage)! + MemoryLayout<UnsafeMutablePointer<embedd_input_usage>?>.size
        usage = Int(r.struct_size) >= usageEnd ? r.usage : nil
        let segmentEnd = MemoryLayout<embedd_embed_request>.offset(of: \.segment_context)! + MemoryLayout<UnsafeMutableRawPointer?>.size
        if Int(r.struct_size) >= segmentEnd, let emit = r.emit_segment {
            segmentSink = (emit, r.segment_context)
        } else {
            segmentSink = nil
        }
    }

    /// Whether the host asked for per-segment vectors (ABI 1.1 `emit_segment`).
    package var wantsSegments: Bool { segmentSink != nil }

    /// Hands the host one segment vector of input `i` covering [start, end) seconds. False
    /// when the host refused it (its per-call limit): the plugin then stops the call with
    /// `EMBEDD_ERR_RESOURCE`. A no-op returning true when no segments were asked for.
    package func emitSegment(input i: Int, start: Double, end: Double, vector: UnsafePointer<Float>) -> Bool {
        guard let segmentSink else { return true }
        return segmentSink.emit(segmentSink.context, UInt32(i), start, end, vector) == Int32(EMBEDD_OK.rawValue)
    }

    /// Whether the host wants token counts (`record(usage:for:)` is a no-op otherwise).
    package var wantsUsage: Bool { usage != nil }

    /// Records how much of text input `i` the vector was computed from (ABI 1.1).
    package func record(tokens: Int, used: Int, chunks: Int = 0, for i: Int) {
        guard let usage else { return }
        usage[i] = embedd_input_usage(tokens: UInt32(clamping: tokens), used: UInt32(clamping: used),
                                      truncated: used < tokens ? 1 : 0, chunks: UInt32(clamping: chunks))
    }

    /// Input *i*'s output row (`dim` floats).
    package func output(row i: Int, dim: Int) -> UnsafeMutablePointer<Float> { output + i * dim }

    /// Fails input `i` alone: sets its status and message (truncated to
    /// `EMBEDD_MESSAGE_CAPACITY` − 1 bytes); the other inputs are unaffected.
    package func fail(_ i: Int, _ status: embedd_status, _ message: String) {
        statuses[i].status = Int32(status.rawValue)
        withUnsafeMutableBytes(of: &statuses[i].message) { raw in
            message.withCString { embedd_copy_message(raw.baseAddress!.assumingMemoryBound(to: CChar.self), raw.count, $0) }
        }
    }
}

extension EmbedBatch {
    /// Input `i` as text, or nil after failing it alone with the reason: not a text input,
    /// over `maxBytes`, not UTF-8, or empty. Whitespace alone counts as empty: it would embed
    /// the same specials-only vector for every such input. `plugin` names the plugin in the
    /// wrong-kind message.
    package func text(at i: Int, maxBytes: Int, plugin: String) -> String? {
        let input = inputs[i]
        guard input.kind == EMBEDD_INPUT_TEXT.rawValue else {
            fail(i, EMBEDD_ERR_UNSUPPORTED_INPUT, "the \(plugin) plugin accepts only UTF-8 text here (kind \(input.kind) given)")
            return nil
        }
        guard input.size <= maxBytes else {
            fail(i, EMBEDD_ERR_TOO_LARGE, "\(input.size) bytes exceeds max_input_bytes \(maxBytes)")
            return nil
        }
        guard input.size > 0, let data = input.data else {
            fail(i, EMBEDD_ERR_INVALID_INPUT, "empty text")
            return nil
        }
        guard let text = String(validating: UnsafeBufferPointer(start: data, count: input.size), as: UTF8.self) else {
            fail(i, EMBEDD_ERR_INVALID_INPUT, "text is not valid UTF-8")
            return nil
        }
        guard text.unicodeScalars.contains(where: { !$0.properties.isWhitespace }) else {
            fail(i, EMBEDD_ERR_INVALID_INPUT, "empty text (only whitespace)")
            return nil
        }
        return text
    }
}
