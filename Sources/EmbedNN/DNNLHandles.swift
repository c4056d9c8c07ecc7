import CDNNL

/// A oneDNN memory object, destroyed with its owner. The data it describes is not owned
/// (oneDNN never frees a user-provided handle; one it allocated, `DNNL_MEMORY_ALLOCATE`,
/// goes with the object).
final class DNNLMemory: @unchecked Sendable {
    // Invariant: used by one thread at a time (the owning layer's), like the layer itself.
    let handle: dnnl_memory_t

    /// `dnnl_memory_create`: a memory object for `desc` over `data` (nil: no data yet).
    init(_ desc: UnsafePointer<dnnl_memory_desc_t>, engine: dnnl_engine_t, data: UnsafeMutableRawPointer?,
         _ what: @autoclosure () -> String) throws(NNError) {
        var h: dnnl_memory_t? = nil
        try DNNL.check(dnnl_memory_create(&h, desc, engine, data), "memory_create(\(what()))")
        guard let h else { throw NNError("oneDNN: memory_create(\(what())) returned no object") }
        handle = h
    }

    /// The data the object points at (`dnnl_memory_get_data_handle`).
    var data: UnsafeMutableRawPointer? {
        var p: UnsafeMutableRawPointer? = nil
        dnnl_memory_get_data_handle(handle, &p)
        return p
    }

    /// Points the object at other data (`dnnl_memory_set_data_handle`).
    func setData(_ p: UnsafeMutableRawPointer) { dnnl_memory_set_data_handle(handle, p) }

    deinit { dnnl_memory_destroy(handle) }
}

/// A oneDNN primitive descriptor, destroyed with its owner.
final class DNNLPrimitiveDescriptor {
    let handle: dnnl_primitive_desc_t

    /// Takes ownership of `handle` (from a `…_primitive_desc_create` that succeeded).
    init(taking handle: dnnl_primitive_desc_t) { self.handle = handle }

    /// The memory descriptor this primitive wants for `what` (`dnnl_primitive_desc_query_md`),
    /// valid while `self` lives.
    func query(_ what: dnnl_query_t, _ name: @autoclosure () -> String) throws(NNError) -> UnsafePointer<dnnl_memory_desc_t> {
        guard let md = dnnl_primitive_desc_query_md(handle, what, 0) else {
            throw NNError("oneDNN: the primitive has no \(name()) memory descriptor")
        }
        return md
    }

    deinit { dnnl_primitive_desc_destroy(handle) }
}

/// A oneDNN primitive (a compiled kernel), destroyed with its owner.
final class DNNLPrimitive: @unchecked Sendable {
    // Invariant: executed by one thread at a time (the owning layer's).
    let handle: dnnl_primitive_t

    /// `dnnl_primitive_create` from a descriptor (which may go once this exists).
    init(_ pd: DNNLPrimitiveDescriptor, _ what: @autoclosure () -> String) throws(NNError) {
        var h: dnnl_primitive_t? = nil
        try DNNL.check(dnnl_primitive_create(&h, pd.handle), "primitive_create(\(what()))")
        guard let h else { throw NNError("oneDNN: primitive_create(\(what())) returned no object") }
        handle = h
    }

    deinit { dnnl_primitive_destroy(handle) }
}
