@preconcurrency import Glibc

/// Settings of glibc's `malloc` for a long-running daemon, and giving freed memory back.
///
/// Why: under tools/soak with the text model (issue 17; bench/NOTES.md, stop 16), the daemon's
/// RSS grew by hundreds of MiB over a few dozen hot swaps with no leak at all: every model generation loads and computes
/// on a new thread, glibc gives each new thread its own arena, and the freed load-time
/// temporaries and batch workspaces stayed resident in those arenas (an arena only shrinks from
/// its top, and live allocations made later pinned the freed pages below). glibc also raises
/// its mmap threshold to the size of each large block freed (up to 32 MiB), after which large
/// per-request buffers come from the arenas instead of being unmapped when freed.
public enum Allocator {
    /// `mallopt` parameter numbers (malloc.h macros).
    private static let M_MMAP_THRESHOLD: Int32 = -3
    private static let M_ARENA_MAX: Int32 = -8

    // <malloc.h> is not part of the Glibc module: look the two glibc functions up by name.
    private typealias MalloptFunction = @convention(c) (Int32, Int32) -> Int32
    private typealias MallocTrimFunction = @convention(c) (Int) -> Int32
    private static func function<F>(_ name: String, as: F.Type) -> F? {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else { return nil }  // RTLD_DEFAULT
        return unsafeBitCast(symbol, to: F.self)
    }
    private static let mallopt = function("mallopt", as: MalloptFunction.self)
    private static let mallocTrim = function("malloc_trim", as: MallocTrimFunction.self)

    /// Applies the daemon's allocator settings, unless the user set their own through
    /// `MALLOC_ARENA_MAX`, `MALLOC_MMAP_THRESHOLD_` or `GLIBC_TUNABLES`:
    /// - at most `arenas` arenas (`M_ARENA_MAX`; glibc's default is 8 per core): fewer places
    ///   for freed memory to be stranded in;
    /// - a fixed mmap threshold (`M_MMAP_THRESHOLD`, which also stops glibc raising it): blocks
    ///   of at least `mmapThreshold` bytes — request frames, batch workspaces, weights being
    ///   packed — are mapped and unmapped on their own, so freeing them returns the memory.
    /// Call once at start-up, before other threads exist.
    public static func configureForDaemon(arenas: Int, mmapThreshold: Int) {
        let user = ["MALLOC_ARENA_MAX", "MALLOC_MMAP_THRESHOLD_", "GLIBC_TUNABLES"].contains { Environment.get($0) != nil }
        guard !user else { return }
        guard let mallopt else { return }  // not glibc
        _ = mallopt(M_ARENA_MAX, Int32(clamping: max(1, arenas)))
        _ = mallopt(M_MMAP_THRESHOLD, Int32(clamping: mmapThreshold))
    }

    /// Returns free memory at the top and in the middle of every arena to the kernel
    /// (`malloc_trim(0)`); walks all arenas, so call it after releasing something large (a
    /// model generation), not per request.
    @discardableResult
    public static func trim() -> Bool { (mallocTrim?(0) ?? 0) != 0 }
}
