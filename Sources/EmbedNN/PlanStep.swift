import CDNNL

/// One primitive of a network plan with the arguments it executes on: memory objects owned by
/// the layer (packed weights, bias) and memory objects whose data is a plan slot, pointed at the
/// slot's current address by `bind` before each run.
final class PlanStep {
    // Invariant: used by the owning model's compute thread only.
    private let primitive: DNNLPrimitive
    private var args: [dnnl_exec_arg_t]
    private let bound: [(memory: DNNLMemory, slot: PlanSlot)]
    /// Keeps the memory objects in `args` that the layer owns alive as long as the step.
    private let owners: [AnyObject]

    /// `fixed`: arguments whose memory never changes; `slots`: arguments bound to plan slots.
    init(_ primitive: DNNLPrimitive, fixed: [(arg: Int32, memory: DNNLMemory)],
         slots: [(arg: Int32, memory: DNNLMemory, slot: PlanSlot)], owner: AnyObject? = nil) {
        self.primitive = primitive
        args = fixed.map { dnnl_exec_arg_t(arg: $0.arg, memory: $0.memory.handle) }
            + slots.map { dnnl_exec_arg_t(arg: $0.arg, memory: $0.memory.handle) }
        bound = slots.map { ($0.memory, $0.slot) }
        owners = fixed.map(\.memory) + (owner.map { [$0] } ?? [])
    }

    /// Points the slot arguments at their current addresses.
    func bind(_ address: (PlanSlot) -> UnsafeMutableRawPointer) {
        for b in bound { b.memory.setData(address(b.slot)) }
    }

    /// Runs the primitive (CPU streams execute in order, so steps need no wait in between).
    func execute(_ stream: dnnl_stream_t, _ what: @autoclosure () -> String) throws(NNError) {
        try DNNL.check(dnnl_primitive_execute(primitive.handle, stream, Int32(args.count), &args), "\(what()) execute")
    }

    /// A step converting `source` to `desc` (another layout or element type) in `slot`.
    static func reorder(_ context: ComputeContext, source: FeatureMap, to desc: dnnl_memory_desc_t,
                       into slot: PlanSlot) throws(NNError) -> (PlanStep, FeatureMap) {
        var from = source.desc
        var to = desc
        let primitive = try DNNL.reorder(from: &from, to: &to, engine: context.engine)
        let src = try DNNLMemory(&from, engine: context.engine, data: nil, "reorder src")
        let dst = try DNNLMemory(&to, engine: context.engine, data: nil, "reorder dst")
        let out = FeatureMap(desc: desc, batch: source.batch, channels: source.channels, height: source.height,
                             width: source.width, slot: slot)
        return (PlanStep(primitive, fixed: [], slots: [(DNNL.argFrom, src, source.slot), (DNNL.argTo, dst, slot)]), out)
    }
}
