@preconcurrency import Glibc

/// A reserved range of virtual memory whose front may be a private (copy-on-write) mapping of a
/// file, and whose rest is zero-filled anonymous memory that the kernel backs page by page.
///
/// Why: the vector store needs arrays that open in O(1) from a file (`mmap`), that it can then
/// modify in memory without touching the file (checkpoints write a new file and rename it), and
/// that can grow without moving — so pointers held by concurrent readers stay valid. Reserving a
/// large range once (`MAP_NORESERVE`, costing address space, not memory) gives all three.
///
/// Invariant: `base` stays mapped, readable and writable for `capacity` bytes until `deinit`
/// unmaps it. The owner guarantees no pointer into it outlives the region; that is why the
/// class is `@unchecked Sendable` (the memory itself is synchronised by the owner's locks).
public final class MappedRegion: @unchecked Sendable {
    /// First byte of the region.
    public let base: UnsafeMutableRawPointer
    /// Bytes reserved (a multiple of the page size).
    public let capacity: Int
    /// Bytes at the front that mirror the file given at creation (0 when anonymous only).
    public let fileBackedBytes: Int

    /// The system page size (`sysconf(_SC_PAGESIZE)`).
    public static let pageSize: Int = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// Reserves `capacity` bytes (rounded up to pages) of zeroed, private memory
    /// (`mmap(MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE)`), then, if `file` is given, maps
    /// `length` bytes of it starting at file offset `offset` (page aligned) over the front,
    /// privately (`mmap(MAP_FIXED|MAP_PRIVATE)`): writes stay in memory, never reach the file.
    ///
    /// - Throws: `Errno` from `mmap`, or `.invalidArgument` for a misaligned offset or a
    ///   `length` larger than `capacity`.
    @inline(never)
    public init(capacity: Int, file: FileDescriptor? = nil, offset: Int64 = 0, length: Int = 0) throws(Errno) {
        let page = MappedRegion.pageSize
        let reserved = max(page, (capacity + page - 1) / page * page)
        guard length >= 0, length <= reserved, offset >= 0, offset % Int64(page) == 0 else {
            throw Errno.invalidArgument
        }
        let raw = Glibc.mmap(nil, reserved, PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        guard let raw, raw != MAP_FAILED else { throw Errno.current }
        if let file, length > 0 {
            let mapped = (length + page - 1) / page * page
            let fixed = Glibc.mmap(raw, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED,
                                   file.rawValue, off_t(offset))
            if fixed == MAP_FAILED {
                let error = Errno.current
                Glibc.munmap(raw, reserved)
                throw error
            }
            fileBackedBytes = length
        } else {
            fileBackedBytes = 0
        }
        base = raw
        self.capacity = reserved
    }

    /// Advises the kernel that access will be random (`madvise(MADV_RANDOM)`): no read-ahead.
    public func adviseRandomAccess() {
        _ = Glibc.madvise(base, capacity, MADV_RANDOM)
    }

    deinit { Glibc.munmap(base, capacity) }
}
