import CDNNL

/// Thin helpers around oneDNN's 2.x C API. All oneDNN calls in embedd go through EmbedNN, and
/// the version-specific ones (`*_desc_init`) stay in this file and the layers (`Linear`,
/// `Conv2D`, `Pool2D`), so a port to the 3.x API stays local.
enum DNNL {
    static let argSrc: Int32 = 1
    static let argDst: Int32 = 17
    static let argWeights: Int32 = 33
    static let argBias: Int32 = 41
    static let argFrom: Int32 = 1
    static let argTo: Int32 = 17
    /// oneDNN's `DNNL_MEMORY_ALLOCATE`: let the library allocate a memory object's buffer.
    static var allocate: UnsafeMutableRawPointer? { UnsafeMutableRawPointer(bitPattern: -1) }

    /// Throws a readable error unless `status` is success.
    static func check(_ status: dnnl_status_t, _ what: @autoclosure () -> String) throws(NNError) {
        guard status == dnnl_success else {
            throw NNError("oneDNN: \(what()) failed with status \(status.rawValue)")
        }
    }

    /// Pads a shape to oneDNN's fixed-size `dnnl_dims_t` (12 entries).
    private static func dims12(_ values: [Int]) -> [Int64] {
        var out = [Int64](repeating: 0, count: 12)
        for (i, v) in values.enumerated() { out[i] = Int64(v) }
        return out
    }

    /// A plain (row-major) memory descriptor.
    static func plainDesc(_ dims: [Int], _ type: dnnl_data_type_t) throws(NNError) -> dnnl_memory_desc_t {
        var strides = [Int](repeating: 0, count: dims.count)
        var s = 1
        for i in stride(from: dims.count - 1, through: 0, by: -1) {
            strides[i] = s
            s *= dims[i]
        }
        return try stridedDesc(dims, strides: strides, type)
    }

    /// A memory descriptor with explicit strides.
    static func stridedDesc(_ dims: [Int], strides: [Int], _ type: dnnl_data_type_t) throws(NNError) -> dnnl_memory_desc_t {
        var md = dnnl_memory_desc_t()
        let d = dims12(dims)
        let s = dims12(strides)
        try check(dnnl_memory_desc_init_by_strides(&md, Int32(dims.count), d, type, s), "memory_desc_init \(dims)")
        return md
    }

    /// A descriptor that lets the primitive choose the layout (`format_tag_any`).
    static func anyDesc(_ dims: [Int], _ type: dnnl_data_type_t) throws(NNError) -> dnnl_memory_desc_t {
        var md = dnnl_memory_desc_t()
        let d = dims12(dims)
        try check(dnnl_memory_desc_init_by_tag(&md, Int32(dims.count), d, type, dnnl_format_tag_any), "memory_desc_init(any) \(dims)")
        return md
    }

    /// A primitive descriptor for the operation descriptor `desc` (`dnnl_primitive_desc_create`),
    /// with the post-ops `postOps` appends (none when nil).
    static func primitiveDescriptor<D>(_ desc: inout D, engine: dnnl_engine_t,
                                       postOps: ((dnnl_post_ops_t) throws(NNError) -> Void)? = nil,
                                       _ what: @autoclosure () -> String) throws(NNError) -> DNNLPrimitiveDescriptor {
        var attr: dnnl_primitive_attr_t? = nil
        try check(dnnl_primitive_attr_create(&attr), "primitive_attr_create")
        defer { dnnl_primitive_attr_destroy(attr) }
        if let postOps {
            var ops: dnnl_post_ops_t? = nil
            try check(dnnl_post_ops_create(&ops), "post_ops_create")
            defer { dnnl_post_ops_destroy(ops) }
            guard let ops else { throw NNError("oneDNN: post_ops_create returned no object") }
            try postOps(ops)
            try check(dnnl_primitive_attr_set_post_ops(attr, ops), "set_post_ops")
        }
        var pd: dnnl_primitive_desc_t? = nil
        try check(withUnsafePointer(to: &desc) { dnnl_primitive_desc_create(&pd, $0, attr, engine, nil) }, what())
        guard let pd else { throw NNError("oneDNN: \(what()) returned no primitive descriptor") }
        return DNNLPrimitiveDescriptor(taking: pd)
    }

    /// A reorder primitive between two layouts (or element types) of one tensor.
    static func reorder(from: UnsafePointer<dnnl_memory_desc_t>, to: UnsafePointer<dnnl_memory_desc_t>,
                        engine: dnnl_engine_t) throws(NNError) -> DNNLPrimitive {
        var rpd: dnnl_primitive_desc_t? = nil
        try check(dnnl_reorder_primitive_desc_create(&rpd, from, engine, to, engine, nil), "reorder_primitive_desc_create")
        guard let rpd else { throw NNError("oneDNN: reorder_primitive_desc_create returned no descriptor") }
        return try DNNLPrimitive(DNNLPrimitiveDescriptor(taking: rpd), "reorder")
    }

    /// Whether two memory descriptors describe the same layout (`dnnl_memory_desc_equal`).
    static func equal(_ a: dnnl_memory_desc_t, _ b: dnnl_memory_desc_t) -> Bool {
        withUnsafePointer(to: a) { pa in withUnsafePointer(to: b) { pb in dnnl_memory_desc_equal(pa, pb) != 0 } }
    }

    /// The implementation oneDNN picked for a primitive descriptor (e.g. "brg:avx512_core_amx").
    static func implementationName(_ pd: dnnl_primitive_desc_t) -> String {
        var cstr: UnsafePointer<CChar>? = nil
        guard dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &cstr) == dnnl_success, let cstr else { return "?" }
        return String(cString: cstr)
    }

    /// The CPU instruction set oneDNN dispatches to on this machine.
    static var effectiveISA: dnnl_cpu_isa_t { dnnl_get_effective_cpu_isa() }

    /// Whether this CPU runs bf16 matmuls natively (AMX tiles, or AVX-512 BF16 dot products).
    static var hasNativeBF16: Bool {
        let isa = effectiveISA.rawValue
        return isa & dnnl_cpu_isa_avx512_core_bf16.rawValue == dnnl_cpu_isa_avx512_core_bf16.rawValue
    }

    /// Whether this CPU has AMX (the fastest bf16 path).
    static var hasAMX: Bool {
        effectiveISA.rawValue & dnnl_cpu_isa_avx512_core_amx.rawValue == dnnl_cpu_isa_avx512_core_amx.rawValue
    }
}
