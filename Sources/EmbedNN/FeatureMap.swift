import CDNNL

/// Where a tensor of a network plan lives: the caller's input or output, or one of the plan's
/// activation buffers (`PlanBuffers`), bound to real addresses only when the plan runs.
enum PlanSlot: Hashable, Sendable {
    case input
    case output
    case buffer(Int)
}

/// An NCHW activation while a plan is built: its logical shape, the layout oneDNN chose for it
/// (often blocked, nChw8c/nChw16c) and the slot holding it.
struct FeatureMap {
    var desc: dnnl_memory_desc_t
    let batch: Int
    let channels: Int
    let height: Int
    let width: Int
    let slot: PlanSlot

    /// Bytes the layout needs (blocked layouts pad channels to the block).
    var byteCount: Int { withUnsafePointer(to: desc) { dnnl_memory_desc_get_size($0) } }

    /// A plain (`nchw`) tensor of `type`.
    static func plain(batch: Int, channels: Int, height: Int, width: Int, type: dnnl_data_type_t,
                      slot: PlanSlot) throws(NNError) -> FeatureMap {
        FeatureMap(desc: try DNNL.plainDesc([batch, channels, height, width], type),
                   batch: batch, channels: channels, height: height, width: width, slot: slot)
    }

    /// The same tensor in another slot.
    func moved(to slot: PlanSlot) -> FeatureMap {
        FeatureMap(desc: desc, batch: batch, channels: channels, height: height, width: width, slot: slot)
    }
}
