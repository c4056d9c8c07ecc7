@preconcurrency import Glibc

/// A shared library opened with `dlopen(3)`.
///
/// Like sourcekit-lsp's `DLHandle`, it refuses silent leaks: an image is either closed with
/// `close()` or explicitly kept with `leak()` (Swift images must never be unloaded), and the
/// owner is expected to do one of the two. The handle is an opaque pointer the dynamic loader
/// owns; dlsym/dlclose are thread-safe, so the wrapper is Sendable.
public final class DynamicLibrary: @unchecked Sendable {
    /// The path the library was opened from.
    public let path: String
    private var handle: UnsafeMutableRawPointer?

    private init(path: String, handle: UnsafeMutableRawPointer) {
        self.path = path
        self.handle = handle
    }

    /// Why `dlopen` or `dlsym` failed, with the loader's own message (`dlerror(3)`).
    public struct LoadError: Error, Sendable, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    /// Opens `path` with `RTLD_NOW | RTLD_LOCAL` (`dlopen(3)`): all symbols resolved up front,
    /// none made visible to later libraries.
    public static func open(_ path: String) throws(LoadError) -> DynamicLibrary {
        _ = dlerror()  // clear a stale message
        guard let h = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            throw LoadError(message: lastError() ?? "dlopen failed for \(path)")
        }
        return DynamicLibrary(path: path, handle: h)
    }

    /// Looks up a symbol (`dlsym(3)`); nil when the library does not define it.
    public func symbol(named name: String) -> UnsafeMutableRawPointer? {
        guard let handle else { return nil }
        _ = dlerror()
        return dlsym(handle, name)
    }

    /// Unloads the library (`dlclose(3)`). Only for images that declare themselves unloadable.
    public func close() {
        guard let h = handle else { return }
        handle = nil
        dlclose(h)
    }

    /// Keeps the image mapped for the life of the process without closing it (Swift plugins).
    public func leak() { handle = nil }

    deinit {
        // Dropping an open library on the floor is a bug in the owner: the image stays mapped
        // (safe), but nobody decided whether it may be unloaded.
        assert(handle == nil, "DynamicLibrary(\(path)) dropped without close() or leak()")
    }

    private static func lastError() -> String? {
        guard let e = dlerror() else { return nil }
        return String(cString: e)
    }
}
