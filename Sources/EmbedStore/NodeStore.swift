import CStoreKernels
import EmbedSys

/// The in-memory image of a collection: fixed-stride node blocks (header, layer-0 links and
/// the vector side by side, as hnswlib does, so a visited node's links and its neighbours'
/// vectors sit in few cache lines), upper-layer links, per-node record entries and a byte heap
/// holding keys and metadata. Each array lives in a `MappedRegion`, so after a checkpoint it
/// opens straight from the snapshot file (copy-on-write), and growing never moves it unless
/// the reservation is exhausted (then it is copied under the writer lock).
///
/// Node block (`stride` bytes, see docs/storage.md):
///
///     0  level      Int32   −1 until the node is linked into the graph
///     4  flags      UInt32  bit 0: deleted
///     8  upperStart UInt32  first word of this node's upper-layer blocks
///     12 norm       Float   1/‖ṽ‖ of the stored vector (cosine), ‖v‖² (inner product), unused (l2)
///     16 linkCount  UInt32  layer-0 links in use
///     20 links      UInt32 × maxLinks0
///     codesOffset:  scale Float, ‖v‖² Float, Int8 × dimension — the vector quantised with its
///                   own scale (v ≈ scale·code), read by searches; 16-byte aligned
///     vectorOffset: the stored vector (16-byte aligned), for re-ranking and `get`, by storage
///                   type: f32 Float × dimension; f16 IEEE half × dimension; int8 none — the
///                   codes are the stored vector (`vectorOffset` == `stride`)
///
/// Thread safety: none of its own. `Collection` reads it under a shared lock and mutates it
/// under the exclusive lock (and a single mutator at a time).
final class NodeStore {
    let dimension: Int
    let metric: Metric
    let storage: StorageType
    let m: Int
    let maxLinks0: Int
    let stride: Int
    let vectorOffset: Int
    let codesOffset: Int
    /// CPU-specific kernels (AVX-512, AVX2 or portable; see CStoreKernels).
    let dotKernel: @convention(c) (UnsafePointer<Float>?, UnsafePointer<Float>?, Int) -> Float
    let l2Kernel: @convention(c) (UnsafePointer<Float>?, UnsafePointer<Float>?, Int) -> Float
    let dotI8Kernel: @convention(c) (UnsafePointer<Int8>?, UnsafePointer<Int8>?, Int) -> Int32
    let f16Decode: @convention(c) (UnsafePointer<UInt16>?, UnsafeMutablePointer<Float>?, Int) -> Void
    let f16Encode: @convention(c) (UnsafePointer<Float>?, UnsafeMutablePointer<UInt16>?, Int) -> Void

    /// Words per upper-layer block: count + m links.
    var upperBlockWords: Int { 1 + m }

    private(set) var nodes: MappedRegion
    private(set) var nodeCapacity: Int
    // `records`, `heap` and `heapUsed` change only under the collection's exclusive lock, and
    // a filtered search reads them for every node it tests (`metadataBytes`): without the
    // run-time exclusivity checks, one filter test costs about a third less.
    @exclusivity(unchecked) private(set) var records: MappedRegion
    private(set) var upper: MappedRegion
    private(set) var upperCapacity: Int
    @exclusivity(unchecked) private(set) var heap: MappedRegion
    private(set) var heapCapacity: Int

    /// Nodes allocated (live, deleted and unlinked alike).
    var count: Int
    /// Words of `upper` in use.
    var upperUsed: Int
    /// Bytes of `heap` in use.
    @exclusivity(unchecked) var heapUsed: Int

    /// Φ², an upper bound of every squared norm (inner-product collections; see `lift`).
    var normBound2: Float = 0

    /// The graph's entry point, or nil while no node is linked.
    var entryPoint: UInt32?
    /// The entry point's level.
    var maxLevel: Int = -1

    static let headerBytes = 20
    static let recordBytes = 16
    static let deletedFlag: UInt32 = 1

    static func layout(dimension: Int, m: Int, storage: StorageType) -> (stride: Int, codesOffset: Int, vectorOffset: Int) {
        let codesOffset = (headerBytes + 4 * 2 * m + 15) / 16 * 16
        let vectorOffset = codesOffset + (8 + dimension + 15) / 16 * 16
        let stride = (vectorOffset + storage.bytesPerComponent * dimension + 15) / 16 * 16
        return (stride, codesOffset, vectorOffset)
    }

    /// Creates an empty store, or one whose arrays start as the given snapshot sections.
    init(dimension: Int, metric: Metric, m: Int, storage: StorageType = .f32, snapshot: SnapshotFile.Mapped? = nil) throws(Errno) {
        self.dimension = dimension
        self.metric = metric
        self.storage = storage
        self.m = m
        self.maxLinks0 = 2 * m
        dotKernel = esk_dot_kernel()!
        l2Kernel = esk_l2sq_kernel()!
        dotI8Kernel = esk_dot_i8_kernel()!
        f16Decode = esk_f16_decode_kernel()!
        f16Encode = esk_f16_encode_kernel()!
        (stride, codesOffset, vectorOffset) = NodeStore.layout(dimension: dimension, m: m, storage: storage)
        let n = snapshot?.nodeCount ?? 0
        nodeCapacity = NodeStore.initialCapacity(for: n, stride: stride)
        upperUsed = snapshot?.upperWords ?? 0
        upperCapacity = max(1 << 16, upperUsed * 2)
        heapUsed = snapshot?.heapBytes ?? 0
        heapCapacity = max(1 << 20, heapUsed * 2)
        if let s = snapshot {
            nodes = try MappedRegion(capacity: nodeCapacity * stride, file: s.descriptor,
                                     offset: s.section(.nodes).offset, length: n * stride)
            records = try MappedRegion(capacity: nodeCapacity * NodeStore.recordBytes, file: s.descriptor,
                                       offset: s.section(.records).offset, length: n * NodeStore.recordBytes)
            upper = try MappedRegion(capacity: upperCapacity * 4, file: s.descriptor,
                                     offset: s.section(.upper).offset, length: upperUsed * 4)
            heap = try MappedRegion(capacity: heapCapacity, file: s.descriptor,
                                    offset: s.section(.heap).offset, length: heapUsed)
            entryPoint = s.entryPoint
            maxLevel = s.maxLevel
            normBound2 = s.header.normBound2
        } else {
            nodes = try MappedRegion(capacity: nodeCapacity * stride)
            records = try MappedRegion(capacity: nodeCapacity * NodeStore.recordBytes)
            upper = try MappedRegion(capacity: upperCapacity * 4)
            heap = try MappedRegion(capacity: heapCapacity)
        }
        count = n
        nodes.adviseRandomAccess()
    }

    /// Reserve room for 4× the current size (at least ~1M nodes or 1 GiB of blocks): address
    /// space is cheap, copying a big array under the writer lock is not.
    static func initialCapacity(for n: Int, stride: Int) -> Int {
        max(4 * n, min(1 << 20, max(1 << 14, (1 << 30) / stride)))
    }

    // MARK: Node access (callers guarantee `id < count`)

    @inline(__always) func block(_ id: UInt32) -> UnsafeMutableRawPointer { nodes.base + Int(id) &* stride }
    @inline(__always) func level(_ id: UInt32) -> Int { Int(block(id).load(as: Int32.self)) }
    @inline(__always) func isDeleted(_ id: UInt32) -> Bool { block(id).load(fromByteOffset: 4, as: UInt32.self) & NodeStore.deletedFlag != 0 }
    @inline(__always) func invNorm(_ id: UInt32) -> Float { block(id).load(fromByteOffset: 12, as: Float.self) }
    /// The stored f32 vector of `id` (f32 storage only; `decodeVector` and `sumOverVector` serve every storage).
    @inline(__always) func vector(_ id: UInt32) -> UnsafePointer<Float> {
        UnsafePointer((block(id) + vectorOffset).assumingMemoryBound(to: Float.self))
    }

    /// Writes `id`'s stored vector as floats into `out` (`dimension` of them): the f32 vector
    /// itself, the f16 one widened (exact), or the int8 codes times their scale.
    func decodeVector(_ id: UInt32, into out: UnsafeMutablePointer<Float>) {
        decodeVector(id, from: 0, count: dimension, into: out)
    }

    /// Components `offset ..< offset + n` of `id`'s stored vector, as floats.
    @inline(__always)
    func decodeVector(_ id: UInt32, from offset: Int, count n: Int, into out: UnsafeMutablePointer<Float>) {
        switch storage {
        case .f32: out.update(from: vector(id) + offset, count: n)
        case .f16: f16Decode((block(id) + vectorOffset).assumingMemoryBound(to: UInt16.self) + offset, out, n)
        case .int8:
            let c = block(id) + codesOffset
            let scale = c.load(as: Float.self)
            let codes = (c + 8).assumingMemoryBound(to: Int8.self) + offset
            for i in 0..<n { out[i] = Float(codes[i]) * scale }
        }
    }

    /// Components per decoded chunk: 1 KiB of floats, which `withUnsafeTemporaryAllocation`
    /// keeps on the stack (a whole decoded vector of a few hundred components would be
    /// heap-allocated on every distance, a measurable share of an f16 build spent in malloc).
    static let decodeChunk = 256

    /// Σ of `body(offset, count, chunk)` over `id`'s stored vector, decoded chunk by chunk (one
    /// whole chunk in place for f32).
    @inline(__always)
    func sumOverVector(_ id: UInt32, _ body: (Int, Int, UnsafePointer<Float>) -> Float) -> Float {
        if storage == .f32 { return body(0, dimension, vector(id)) }
        return withUnsafeTemporaryAllocation(of: Float.self, capacity: NodeStore.decodeChunk) { buffer in
            var total: Float = 0
            var offset = 0
            while offset < dimension {
                let n = min(NodeStore.decodeChunk, dimension - offset)
                decodeVector(id, from: offset, count: n, into: buffer.baseAddress!)
                total += body(offset, n, buffer.baseAddress!)
                offset += n
            }
            return total
        }
    }

    /// Σ of `body(count, a's chunk, b's chunk)` over two nodes' stored vectors, chunk by chunk.
    @inline(__always)
    func sumOverVectors(_ a: UInt32, _ b: UInt32, _ body: (Int, UnsafePointer<Float>, UnsafePointer<Float>) -> Float) -> Float {
        if storage == .f32 { return body(dimension, vector(a), vector(b)) }
        return sumOverVector(a) { offset, n, va in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: NodeStore.decodeChunk) { vb in
                decodeVector(b, from: offset, count: n, into: vb.baseAddress!)
                return body(n, va, vb.baseAddress!)
            }
        }
    }

    /// `v` as `storage` keeps it (what `decodeVector` will return after `append`).
    static func roundTrip(_ v: [Float], through storage: StorageType) -> [Float] {
        switch storage {
        case .f32: return v
        case .f16:
            var half = [UInt16](repeating: 0, count: v.count)
            var out = [Float](repeating: 0, count: v.count)
            esk_f16_encode_kernel()!(v, &half, v.count)
            esk_f16_decode_kernel()!(half, &out, v.count)
            return out
        case .int8:
            var codes = [Int8](repeating: 0, count: v.count)
            let scale = v.withUnsafeBufferPointer { b in
                codes.withUnsafeMutableBufferPointer { c in quantize(b.baseAddress!, v.count, into: c.baseAddress!) }
            }
            return codes.map { Float($0) * scale }
        }
    }

    /// 1/‖x̃‖ of `v` as `storage` keeps it — what cosine scores divide by — or nil when the
    /// stored vector has no direction (see `Metric.inverseNorm`).
    static func storedInverseNorm(_ v: [Float], storage: StorageType) -> Float? {
        Metric.inverseNorm(storage == .f32 ? v : roundTrip(v, through: storage))
    }

    /// The portable half-precision converters (tests hold the SIMD ones against them).
    static func portableF16Decode(_ src: UnsafePointer<UInt16>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        esk_f16_decode_generic(src, dst, n)
    }
    static func portableF16Encode(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<UInt16>, _ n: Int) {
        esk_f16_encode_generic(src, dst, n)
    }

    /// `id`'s stored vector as floats (what `get` returns).
    func decodedVector(_ id: UInt32) -> [Float] {
        [Float](unsafeUninitializedCapacity: dimension) { b, n in
            decodeVector(id, into: b.baseAddress!)
            n = dimension
        }
    }

    /// Starts loading the first cache lines of `id`'s stored vector (no bounds check needed: a
    /// prefetch never faults).
    @inline(__always) func prefetchVector(_ id: UInt32) {
        let p = nodes.base + (Int(id) &* stride &+ (storage == .int8 ? codesOffset : vectorOffset))
        esk_prefetch(p)
        esk_prefetch(p + 64)
    }

    /// Starts loading every cache line of `id`'s stored vector (what an exact distance reads).
    @inline(__always) func prefetchWholeVector(_ id: UInt32) {
        var p = nodes.base + (Int(id) &* stride &+ (storage == .int8 ? codesOffset : vectorOffset))
        let end = p + (storage == .int8 ? 8 + dimension : storage.bytesPerComponent * dimension)
        while p < end {
            esk_prefetch(p)
            p += 64
        }
    }

    /// Starts loading `id`'s record entry (where its key and metadata are in the heap).
    @inline(__always) func prefetchRecord(_ id: UInt32) {
        esk_prefetch(records.base + Int(id) &* NodeStore.recordBytes)
    }

    /// Starts loading the first line of `id`'s key and metadata; reads its record entry (so
    /// call `prefetchRecord` for a batch of ids first).
    @inline(__always) func prefetchKey(_ id: UInt32) {
        guard recordIsInBounds(id) else { return }
        esk_prefetch(heap.base + Int((records.base + Int(id) &* NodeStore.recordBytes).load(as: UInt64.self)))
    }

    /// Starts loading `id`'s layer-0 link list (what expanding a candidate reads first).
    @inline(__always) func prefetchLinks(_ id: UInt32) {
        var p = nodes.base + (Int(id) &* stride &+ 16)
        let end = p + 4 * (1 + maxLinks0)
        while p < end {
            esk_prefetch(p)
            p += 64
        }
    }

    /// Starts loading `id`'s quantised codes (what a quantised search reads).
    @inline(__always) func prefetchCodes(_ id: UInt32) {
        let b = nodes.base + Int(id) &* stride
        if metric == .cosine { esk_prefetch(b) }  // invNorm sits in the header line
        var p = b + codesOffset
        let end = p + 8 + dimension
        while p < end {
            esk_prefetch(p)
            p += 64
        }
    }

    /// Quantises `n` floats with their own scale: code = round(x / scale), scale = max|x|/127
    /// (CStoreKernels' `esk_quantize_kernel`, AVX-512 where available, bit-identical to the
    /// portable one; 0 and all-zero codes for a zero vector).
    static func quantize(_ v: UnsafePointer<Float>, _ n: Int, into codes: UnsafeMutablePointer<Int8>) -> Float {
        quantizer(v, n, codes)
    }
    private static let quantizer = esk_quantize_kernel()!

    /// The portable quantiser (tests hold the SIMD one against it).
    static func portableQuantize(_ v: UnsafePointer<Float>, _ n: Int, into codes: UnsafeMutablePointer<Int8>) -> Float {
        esk_quantize_generic(v, n, codes)
    }

    /// Approximate distance from a quantised query to node `id` (same order as `distance`).
    @inline(__always)
    func approximateDistance(_ q: QuantizedQuery, _ id: UInt32) -> Float {
        let c = block(id) + codesOffset
        let dot = Float(dotI8Kernel(q.codes, (c + 8).assumingMemoryBound(to: Int8.self), dimension))
            * q.scale * c.load(as: Float.self)
        switch metric {
        case .cosine: return 1 - dot * invNorm(id)
        case .l2: return q.norm2 + c.load(fromByteOffset: 4, as: Float.self) - 2 * dot
        case .innerProduct: return -dot
        }
    }

    /// The layer-0 beam search of an unfiltered quantised search, in C (`esk_walk_layer0`):
    /// the same walk as `HNSW.searchLayer` with no `accept` (or, with `skipDeleted`, one that
    /// accepts every node not flagged deleted), without its per-hop overhead.
    /// Returns up to `ef` (approximate distance, id) pairs, nearest first; nil when the C walk
    /// cannot take this graph (more than 256 links per node).
    ///
    /// `beam` 2 expands the two nearest candidates per step (see `searchBeam`); 1 is HNSW's order.
    /// With `filter` (`esk_walk_layer0_filtered`) only the nodes it accepts are results.
    func walkLayer0(_ q: QuantizedQuery, entries: [(Float, UInt32)], ef: Int, skipDeleted: Bool, excluding: UInt32? = nil,
                    beam: Int = 1, filter: UnsafePointer<esk_walk_filter>? = nil, scratch: SearchScratch) -> [(Float, UInt32)]? {
        let entryDistances = entries.map(\.0), entryIDs = entries.map(\.1)
        if scratch.walkResultIDs.count < ef + 1 {
            scratch.walkResultDistances = [Float](repeating: 0, count: ef + 1)
            scratch.walkResultIDs = [UInt32](repeating: 0, count: ef + 1)
        }
        let metricCode: Int32 = switch metric { case .cosine: 0; case .l2: 1; case .innerProduct: 2 }
        let nodeCount = count  // one reading: the visited marks must cover every id the walk takes
        while true {
            let n: Int32 = scratch.visited.withCleared(nodeCount: nodeCount) { bits, touched, touchedCapacity, touchedCount in
                var w = esk_walk(nodes: UnsafePointer(nodes.base.assumingMemoryBound(to: UInt8.self)), stride: stride,
                                 codes_offset: codesOffset, dim: dimension, max_links: UInt32(maxLinks0),
                                 node_count: UInt32(nodeCount), metric: metricCode, query_codes: q.codes,
                                 query_scale: q.scale, query_norm2: q.norm2, visited: bits, touched: touched,
                                 touched_capacity: touchedCapacity, touched_count: touchedCount,
                                 skip_deleted: skipDeleted ? 1 : 0, exclude: excluding ?? UInt32.max, beam: Int32(beam))
                let capacity = Int32(clamping: scratch.walkCandidateIDs.count)
                return scratch.walkCandidateDistances.withUnsafeMutableBufferPointer { cd in
                    scratch.walkCandidateIDs.withUnsafeMutableBufferPointer { ci in
                        scratch.walkResultDistances.withUnsafeMutableBufferPointer { rd in
                            scratch.walkResultIDs.withUnsafeMutableBufferPointer { ri in
                                if let filter {
                                    return esk_walk_layer0_filtered(&w, filter, entryDistances, entryIDs, Int32(entries.count),
                                                                    Int32(clamping: ef), cd.baseAddress, ci.baseAddress, capacity,
                                                                    rd.baseAddress, ri.baseAddress)
                                }
                                return esk_walk_layer0(&w, entryDistances, entryIDs, Int32(entries.count), Int32(clamping: ef),
                                                       cd.baseAddress, ci.baseAddress, capacity, rd.baseAddress, ri.baseAddress)
                            }
                        }
                    }
                }
            }
            if n >= 0 {
                let found = (0..<Int(n)).map { (scratch.walkResultDistances[$0], scratch.walkResultIDs[$0]) }
                // A pooled scratch keeps no more than 64 Ki candidate slots (512 KiB) after a
                // search with a huge ef: that one grows them again if it comes back.
                if scratch.walkCandidateIDs.count > 1 << 16 {
                    scratch.walkCandidateDistances = [Float](repeating: 0, count: 4096)
                    scratch.walkCandidateIDs = [UInt32](repeating: 0, count: 4096)
                }
                return found
            }
            if n != -1 { return nil }
            // More candidates than the buffer holds: grow it and walk again with the marks cleared.
            let grown = scratch.walkCandidateIDs.count * 4
            scratch.walkCandidateDistances = [Float](repeating: 0, count: grown)
            scratch.walkCandidateIDs = [UInt32](repeating: 0, count: grown)
        }
    }

    /// The beam of a search's layer-0 walk: 2 when each step of the walk waits on memory and
    /// reads little — node blocks over 16 × the last-level cache and codes of at most 192 bytes
    /// (dimension ≤ 184: 3 or 4 cache lines) — where expanding two candidates together overlaps those waits;
    /// 1 otherwise, where the extra expansions cost more than they hide (bench/NOTES.md, stop 12,
    /// and "Figures moved out of code comments").
    /// Graph construction always walks with 1.
    var searchBeam: Int {
        8 + dimension <= 192 && count &* stride > NodeStore.beamThresholdBytes ? 2 : 1
    }

    /// 16 × the last-level cache (32 MiB where unknown).
    static let beamThresholdBytes = 16 * (CPUCache.lastLevelBytes ?? 32 << 20)

    /// Node `id`'s own codes as a query for `approximateDistance` (for cosine the scale folds
    /// in 1/‖v‖, as a search's normalised query would). Valid while memory does not move.
    func ownQuantizedQuery(_ id: UInt32) -> QuantizedQuery {
        let c = block(id) + codesOffset
        let scale = c.load(as: Float.self) * (metric == .cosine ? invNorm(id) : 1)
        return QuantizedQuery(codes: UnsafePointer((c + 8).assumingMemoryBound(to: Int8.self)), scale: scale,
                              norm2: c.load(fromByteOffset: 4, as: Float.self))
    }

    /// The link list of `id` at `level`: a pointer to its count word, followed by the links.
    @inline(__always) func linkList(_ id: UInt32, level: Int) -> UnsafeMutablePointer<UInt32> {
        if level == 0 {
            return (block(id) + 16).assumingMemoryBound(to: UInt32.self)
        }
        let start = Int(block(id).load(fromByteOffset: 8, as: UInt32.self))
        return upper.base.assumingMemoryBound(to: UInt32.self) + start + (level - 1) * upperBlockWords
    }

    /// Whether `id` really has a link list at `level` inside the upper array. Always true for
    /// intact data; checked on every upper-layer step so a damaged snapshot opened without
    /// verification can give wrong answers but never read outside its memory.
    @inline(__always) func hasLinks(_ id: UInt32, level: Int) -> Bool {
        if level == 0 { return true }
        let start = Int(block(id).load(fromByteOffset: 8, as: UInt32.self))
        return self.level(id) >= level && start + level * upperBlockWords <= upperUsed
    }

    /// `level(id)` for code that writes links or sizes new memory from it (repair, relinking,
    /// compaction, entry-point choice): a stored level outside -1…63, or one whose upper link
    /// lists would lie outside the upper array (a damaged snapshot opened before or without
    /// verification), counts as 0 — a layer-0 node — instead of sending a write out of bounds
    /// or a loop over two billion levels. Intact data: the stored level.
    func usableLevel(_ id: UInt32) -> Int {
        let l = level(id)
        if l <= 0 { return max(l, -1) }
        return l <= 63 && hasLinks(id, level: l) ? l : 0
    }

    /// Capacity of a link list at `level`.
    @inline(__always) func maxLinks(level: Int) -> Int { level == 0 ? maxLinks0 : m }

    func markDeleted(_ id: UInt32) {
        let p = block(id) + 4
        p.storeBytes(of: p.load(as: UInt32.self) | NodeStore.deletedFlag, as: UInt32.self)
    }

    // MARK: Records

    /// The key bytes of `id` (empty if its record entry is damaged).
    func keyBytes(_ id: UInt32) -> UnsafeRawBufferPointer {
        guard recordIsInBounds(id) else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        let r = records.base + Int(id) * NodeStore.recordBytes
        let offset = Int(r.load(as: UInt64.self))
        let keyLength = Int(r.load(fromByteOffset: 8, as: UInt32.self))
        return UnsafeRawBufferPointer(start: heap.base + offset, count: keyLength)
    }

    /// Everything stored after `id`'s key: its metadata, then, when it has a document, a NUL
    /// byte and the document (`RecordPayload`). Empty when neither, or if the entry is damaged.
    func payloadBytes(_ id: UInt32) -> UnsafeRawBufferPointer {
        guard recordIsInBounds(id) else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        let r = records.base + Int(id) * NodeStore.recordBytes
        let offset = Int(r.load(as: UInt64.self))
        let keyLength = Int(r.load(fromByteOffset: 8, as: UInt32.self))
        let payloadLength = Int(r.load(fromByteOffset: 12, as: UInt32.self))
        return UnsafeRawBufferPointer(start: heap.base + offset + keyLength, count: payloadLength)
    }

    /// The metadata bytes of `id` (empty when none, or if its record entry is damaged).
    func metadataBytes(_ id: UInt32) -> UnsafeRawBufferPointer { RecordPayload.metadata(in: payloadBytes(id)) }

    /// The document bytes of `id` (empty when it has none).
    func documentBytes(_ id: UInt32) -> UnsafeRawBufferPointer { RecordPayload.document(in: payloadBytes(id)) }

    func key(_ id: UInt32) -> String { String(decoding: keyBytes(id), as: UTF8.self) }

    func metadata(_ id: UInt32) -> String? {
        let b = metadataBytes(id)
        return b.isEmpty ? nil : String(decoding: b, as: UTF8.self)
    }

    func document(_ id: UInt32) -> String? {
        let b = documentBytes(id)
        return b.isEmpty ? nil : String(decoding: b, as: UTF8.self)
    }

    /// Bounds of `id`'s record entry inside the heap, for integrity checks on open.
    func recordIsInBounds(_ id: UInt32) -> Bool {
        let r = records.base + Int(id) * NodeStore.recordBytes
        let offset = r.load(as: UInt64.self)
        let total = UInt64(r.load(fromByteOffset: 8, as: UInt32.self)) + UInt64(r.load(fromByteOffset: 12, as: UInt32.self))
        return offset <= UInt64(heapUsed) && total <= UInt64(heapUsed) - offset
    }

    // MARK: Mutation (exclusive lock held)

    /// Appends a node holding `vector`, `key` and `metadata` (a `RecordPayload`: metadata and
    /// document); not yet linked (level −1).
    func append(vector: UnsafeBufferPointer<Float>, invNorm: Float, key: some Swift.Collection<UInt8>, metadata: some Swift.Collection<UInt8>) throws(Errno) -> UInt32 {
        try reserveNodes(count + 1)
        let bytes = key.count + metadata.count
        try reserveHeap(heapUsed + bytes)
        let id = UInt32(count)
        let b = block(id)
        b.initializeMemory(as: UInt8.self, repeating: 0, count: stride)
        b.storeBytes(of: -1, as: Int32.self)
        if metric == .innerProduct {
            let sq = Distance.dot(vector.baseAddress!, vector.baseAddress!, dimension)
            b.storeBytes(of: sq, toByteOffset: 12, as: Float.self)
            normBound2 = max(normBound2, sq)
        } else {
            b.storeBytes(of: invNorm, toByteOffset: 12, as: Float.self)
        }
        switch storage {
        case .f32: (b + vectorOffset).copyMemory(from: vector.baseAddress!, byteCount: dimension * 4)
        case .f16: f16Encode(vector.baseAddress!, (b + vectorOffset).assumingMemoryBound(to: UInt16.self), dimension)
        case .int8: break  // the codes below are the stored vector
        }
        let codes = b + codesOffset
        codes.storeBytes(of: NodeStore.quantize(vector.baseAddress!, dimension, into: (codes + 8).assumingMemoryBound(to: Int8.self)), as: Float.self)
        codes.storeBytes(of: dotKernel(vector.baseAddress!, vector.baseAddress!, dimension),
                         toByteOffset: 4, as: Float.self)
        appendRecord(id, key: key, metadata: metadata)
        return id
    }

    /// Writes node `id`'s record entry and its key and metadata bytes (room reserved), and
    /// counts the node.
    private func appendRecord(_ id: UInt32, key: some Swift.Collection<UInt8>, metadata: some Swift.Collection<UInt8>) {
        let r = records.base + Int(id) * NodeStore.recordBytes
        r.storeBytes(of: UInt64(heapUsed), as: UInt64.self)
        r.storeBytes(of: UInt32(key.count), toByteOffset: 8, as: UInt32.self)
        r.storeBytes(of: UInt32(metadata.count), toByteOffset: 12, as: UInt32.self)
        var p = heap.base.assumingMemoryBound(to: UInt8.self) + heapUsed
        for c in key { p.pointee = c; p += 1 }
        for c in metadata { p.pointee = c; p += 1 }
        heapUsed += key.count + metadata.count
        count += 1
    }

    /// Appends a copy of node `old` of `source` (same layout): its norm field, codes and stored
    /// vector byte for byte (re-encoding a decoded f16/int8 vector could change them), without
    /// its level, flags or links.
    func append(copyOf old: UInt32, from source: NodeStore, key: some Swift.Collection<UInt8>,
                metadata: some Swift.Collection<UInt8>) throws(Errno) -> UInt32 {
        precondition(source.stride == stride && source.codesOffset == codesOffset)
        try reserveNodes(count + 1)
        try reserveHeap(heapUsed + key.count + metadata.count)
        let id = UInt32(count)
        let b = block(id)
        b.copyMemory(from: source.block(old), byteCount: stride)
        b.storeBytes(of: -1, as: Int32.self)                          // not linked yet
        b.storeBytes(of: 0, toByteOffset: 4, as: UInt32.self)         // flags
        b.storeBytes(of: 0, toByteOffset: 8, as: UInt32.self)         // upper start
        (b + 16).initializeMemory(as: UInt32.self, repeating: 0, count: 1 + maxLinks0)
        appendRecord(id, key: key, metadata: metadata)
        return id
    }

    /// Gives `id` its level and room for its upper-layer link lists.
    func assignLevel(_ id: UInt32, level: Int) throws(Errno) {
        if level > 0 {
            let words = level * upperBlockWords
            try reserveUpper(upperUsed + words)
            (upper.base.assumingMemoryBound(to: UInt32.self) + upperUsed).initialize(repeating: 0, count: words)
            block(id).storeBytes(of: UInt32(upperUsed), toByteOffset: 8, as: UInt32.self)
            upperUsed += words
        }
        block(id).storeBytes(of: Int32(level), as: Int32.self)
    }

    /// Replaces the link list of `id` at `level`.
    func setLinks(_ id: UInt32, level: Int, _ links: [UInt32]) {
        guard hasLinks(id, level: level) else { return }  // damaged level / upperStart: never write outside
        let list = linkList(id, level: level)
        let n = min(links.count, maxLinks(level: level))
        list.pointee = UInt32(n)
        for i in 0..<n { list[1 + i] = links[i] }
    }

    /// Whether appending `nodes` nodes with `heapBytes` of keys and metadata would move memory.
    func needsGrowth(nodes n: Int, heapBytes: Int) -> Bool {
        count + n > nodeCapacity || heapUsed + heapBytes > heapCapacity
    }

    private func reserveNodes(_ needed: Int) throws(Errno) {
        guard needed > nodeCapacity else { return }
        let newCapacity = max(needed, nodeCapacity * 2)
        let newNodes = try MappedRegion(capacity: newCapacity * stride)
        let newRecords = try MappedRegion(capacity: newCapacity * NodeStore.recordBytes)
        newNodes.base.copyMemory(from: nodes.base, byteCount: count * stride)
        newRecords.base.copyMemory(from: records.base, byteCount: count * NodeStore.recordBytes)
        newNodes.adviseRandomAccess()
        nodes = newNodes
        records = newRecords
        nodeCapacity = newCapacity
    }

    private func reserveUpper(_ words: Int) throws(Errno) {
        guard words > upperCapacity else { return }
        let newCapacity = max(words, upperCapacity * 2)
        let region = try MappedRegion(capacity: newCapacity * 4)
        region.base.copyMemory(from: upper.base, byteCount: upperUsed * 4)
        upper = region
        upperCapacity = newCapacity
    }

    private func reserveHeap(_ bytes: Int) throws(Errno) {
        guard bytes > heapCapacity else { return }
        let newCapacity = max(bytes, heapCapacity * 2)
        let region = try MappedRegion(capacity: newCapacity)
        region.base.copyMemory(from: heap.base, byteCount: heapUsed)
        heap = region
        heapCapacity = newCapacity
    }

    // MARK: Distances (internal form: lower is better for every metric)

    /// Distance from a prepared query (normalised for cosine) to node `id`.
    @inline(__always)
    func distance(_ q: UnsafePointer<Float>, _ id: UInt32) -> Float {
        switch metric {
        case .cosine: return 1 - sumOverVector(id) { o, n, v in dotKernel(q + o, v, n) } * invNorm(id)
        case .l2: return sumOverVector(id) { o, n, v in l2Kernel(q + o, v, n) }
        case .innerProduct: return -sumOverVector(id) { o, n, v in dotKernel(q + o, v, n) }
        }
    }

    /// For inner-product collections the graph is built in the space of the MIPS→L2 reduction
    /// (Bachrach et al. 2014): x ↦ [x, t(x)] with t(x) = √(Φ² − ‖x‖²), Φ ≥ every norm. There,
    /// L2 order equals inner-product order for queries [q, 0], so the graph suits the search
    /// objective; building with raw inner product instead leaves large-norm points as hubs and
    /// the neighbour heuristic prunes badly. Φ² (`normBound2`) only grows.
    @inline(__always)
    func lift(_ id: UInt32) -> Float { max(0, normBound2 - invNorm(id)).squareRoot() }

    /// Construction distance from a node's own prepared vector `q` (lift `qt`) to node `id`.
    @inline(__always)
    func graphDistance(_ q: UnsafePointer<Float>, lift qt: Float, _ id: UInt32) -> Float {
        guard metric == .innerProduct else { return distance(q, id) }
        let dt = qt - lift(id)
        return sumOverVector(id) { o, n, v in l2Kernel(q + o, v, n) } + dt * dt
    }

    /// Construction distance between two stored nodes.
    @inline(__always)
    func distance(_ a: UInt32, _ b: UInt32) -> Float {
        if storage == .int8 && metric != .innerProduct {
            // Both vectors are scale·codes: the integer dot product is exact, no decoding.
            let ca = block(a) + codesOffset, cb = block(b) + codesOffset
            let sa = ca.load(as: Float.self), sb = cb.load(as: Float.self)
            let codesA = (ca + 8).assumingMemoryBound(to: Int8.self), codesB = (cb + 8).assumingMemoryBound(to: Int8.self)
            let dot = Float(dotI8Kernel(codesA, codesB, dimension)) * sa * sb
            if metric == .cosine { return 1 - dot * invNorm(a) * invNorm(b) }
            let na = Float(dotI8Kernel(codesA, codesA, dimension)) * sa * sa
            let nb = Float(dotI8Kernel(codesB, codesB, dimension)) * sb * sb
            return max(0, na + nb - 2 * dot)
        }
        switch metric {
        case .cosine: return 1 - sumOverVectors(a, b) { n, va, vb in dotKernel(va, vb, n) } * invNorm(a) * invNorm(b)
        case .l2: return sumOverVectors(a, b) { n, va, vb in l2Kernel(va, vb, n) }
        case .innerProduct:
            let dt = lift(a) - lift(b)
            return sumOverVectors(a, b) { n, va, vb in l2Kernel(va, vb, n) } + dt * dt
        }
    }

    /// The query as the distance functions expect it: unit length for cosine.
    func prepare(query: [Float]) -> [Float] {
        guard metric == .cosine, let inverse = Metric.inverseNorm(query) else { return query }
        return query.map { $0 * inverse }
    }

    /// Prepared copy of node `id`'s own vector (inserting it uses it as a query).
    func preparedVector(_ id: UInt32) -> [Float] {
        var v = decodedVector(id)
        if metric == .cosine {
            let s = invNorm(id)
            for i in v.indices { v[i] *= s }
        }
        return v
    }
}

/// A query quantised like the stored codes, for the approximate first pass of a search.
struct QuantizedQuery {
    let codes: UnsafePointer<Int8>
    let scale: Float
    let norm2: Float
}
