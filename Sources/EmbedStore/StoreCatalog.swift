import EmbedSys
import Synchronization

/// The store's root: one directory holding one subdirectory per collection. Creates, opens,
/// lists and drops collections; an open collection is shared by every caller that opens it.
///
/// Thread-safe. Names are 1…64 characters of `[A-Za-z0-9_.-]`, not starting with `.`
/// (dot-names are the catalog's own temporaries).
public final class StoreCatalog: Sendable {
    /// The root directory.
    public let directory: String
    let options: OpenOptions
    let logger: StoreLogger
    private let open = Mutex<[String: VectorCollection]>([:])
    /// Names being dropped: `open` refuses them (as not found) until their directory is gone,
    /// so nobody opens — and caches — a second instance on files about to be deleted. Locked
    /// only inside `open`'s lock or alone (never the other way round).
    private let dropping = Mutex<Set<String>>([])
    /// The error each collection last failed to open with, so that it is logged once — every
    /// call that touches the collection retries the open (an operator may have repaired the
    /// file meanwhile) and would otherwise log it again. Locked only inside `open`'s lock.
    private let openFailures = Mutex<[String: StoreError]>([:])

    /// Uses (and creates if missing) `directory`.
    /// - Parameters:
    ///   - options: applied to every collection opened through this catalog.
    ///   - logger: receives recovery, checkpoint and error messages (default: discarded).
    public init(directory: String, options: OpenOptions = OpenOptions(),
                logger: @escaping StoreLogger = { _, _ in }) throws(StoreError) {
        self.directory = directory
        self.options = options
        self.logger = logger
        try io(directory, "mkdir") { () throws(Errno) in try FileSystem.makeDirectories(directory) }
        // Leftovers of a create or drop that was interrupted.
        if let names = try? FileSystem.contentsOfDirectory(directory) {
            for n in names where n.hasPrefix(".creating-") || n.hasPrefix(".dropped-") {
                StoreCatalog.removeTree(directory + "/" + n)
            }
        }
    }

    /// Checks a collection name.
    public static func validate(name: String) throws(StoreError) {
        let ok = !name.isEmpty && name.utf8.count <= 64 && !name.hasPrefix(".")
            && name.utf8.allSatisfy { c in
                (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
                    || c == UInt8(ascii: "_") || c == UInt8(ascii: "-") || c == UInt8(ascii: ".")
            }
        guard ok else {
            throw .invalidArgument("collection name '\(name)' must be 1…64 characters of A-Z a-z 0-9 _ . - and not start with '.'")
        }
    }

    /// Creates a collection and returns it open.
    /// - Throws: `.collectionExists`, `.invalidArgument` for a bad config.
    public func create(_ name: String, config: CollectionConfig) throws(StoreError) -> VectorCollection {
        try StoreCatalog.validate(name: name)
        try config.validate()
        let final = directory + "/" + name
        if FileSystem.exists(final) { throw .collectionExists(name) }
        // Built under a temporary name and renamed, so a crash never leaves half a collection.
        let tmp = directory + "/.creating-\(name)"
        StoreCatalog.removeTree(tmp)
        // A failure part-way (out of descriptors, a full disk) removes what was built, so no
        // `.creating-NAME` is left behind until the next start.
        do throws(StoreError) {
            try io(tmp, "mkdir") { () throws(Errno) in try FileSystem.makeDirectory(tmp, existOK: false) }
            let meta = CollectionMeta.encode(name: name, config: config)
            let metaPath = tmp + "/collection.meta"
            try io(metaPath, "write") { () throws(Errno) in
                let fd = try FileDescriptor.open(metaPath, [.writeOnly, .create, .exclusive])
                defer { try? fd.close() }
                try fd.writeAll(meta)
                try fd.sync()
            }
            try WriteAheadLog.create(path: tmp + "/wal.log")
            try io(tmp, "fsync") { () throws(Errno) in try FileSystem.syncDirectory(tmp) }
        } catch {
            StoreCatalog.removeTree(tmp)
            throw error
        }
        do {
            try FileSystem.rename(tmp, to: final)
        } catch {
            StoreCatalog.removeTree(tmp)
            if error == .fileExists || error.rawValue == 39 /* ENOTEMPTY */ { throw StoreError.collectionExists(name) }
            throw StoreError.io(path: final, operation: "rename", errno: error)
        }
        try io(directory, "fsync") { () throws(Errno) in try FileSystem.syncDirectory(directory) }
        logger(.info, "created collection '\(name)' (dimension \(config.dimension), \(config.metric))")
        return try self.open(name)
    }

    /// Opens a collection (or returns the already open instance).
    /// - Throws: `.collectionNotFound`, `.corrupt` naming a damaged file, `.collectionLocked`
    ///   when another process has it open.
    public func open(_ name: String) throws(StoreError) -> VectorCollection {
        try StoreCatalog.validate(name: name)
        return try open.withLock { table throws(StoreError) -> VectorCollection in
            if let c = table[name] { return c }
            if dropping.withLock({ $0.contains(name) }) { throw .collectionNotFound(name) }
            let path = directory + "/" + name
            guard FileSystem.isRegularFile(path + "/collection.meta") else { throw .collectionNotFound(name) }
            let c: VectorCollection
            do throws(StoreError) { c = try VectorCollection(directory: path, options: options, logger: logger) } catch {
                let previous = openFailures.withLock { $0.updateValue(error, forKey: name) }
                if previous != error {
                    var consequence = "calls to it fail until this is resolved"
                    if case .corrupt = error { consequence = "every call to it fails with DATA_LOSS until the file is restored or repaired" }
                    logger(.error, "collection '\(name)' cannot be opened: \(error); \(consequence)")
                }
                throw error
            }
            openFailures.withLock { _ = $0.removeValue(forKey: name) }
            table[name] = c
            return c
        }
    }

    /// The collection if this catalog has it open already, else nil — also nil while another
    /// thread opens, creates or drops a collection (that holds the table's lock through a
    /// snapshot load or log replay). Never waits and never touches the disk: for callers that
    /// must not block, such as a server's event loop.
    public func openedIfFree(_ name: String) -> VectorCollection? {
        open.withLockIfAvailable { $0[name] } ?? nil
    }

    /// The collections open now, by name order (each was opened by a call since the daemon
    /// started). Never opens one: for monitoring, which must not load every collection.
    public func openCollections() -> [VectorCollection] {
        open.withLock { Array($0.values) }.sorted { $0.name < $1.name }
    }

    /// Names of all collections, sorted.
    public func list() throws(StoreError) -> [String] {
        let names = try io(directory, "readdir") { () throws(Errno) in try FileSystem.contentsOfDirectory(directory) }
        return names.filter { !$0.hasPrefix(".") && FileSystem.isRegularFile(directory + "/" + $0 + "/collection.meta") }
    }

    /// Closes a collection (checkpointing it) and forgets the open instance.
    public func close(_ name: String) throws(StoreError) {
        let c = open.withLock { $0.removeValue(forKey: name) }
        try c?.close()
    }

    /// Closes every open collection.
    public func closeAll() throws(StoreError) {
        let all = open.withLock { t in defer { t.removeAll() }; return Array(t.values) }
        var first: StoreError?
        for c in all {
            do { try c.close() } catch { first = first ?? error }
        }
        if let first { throw first }
    }

    /// Deletes a collection and its files. Open handles to it throw `.closed` afterwards.
    public func drop(_ name: String) throws(StoreError) {
        try StoreCatalog.validate(name: name)
        let path = directory + "/" + name
        guard FileSystem.isRegularFile(path + "/collection.meta") else { throw .collectionNotFound(name) }
        let c = try open.withLock { table throws(StoreError) -> VectorCollection? in
            if dropping.withLock({ $0.contains(name) }) { throw .collectionNotFound(name) }  // a concurrent drop
            dropping.withLock { _ = $0.insert(name) }
            return table.removeValue(forKey: name)
        }
        defer { dropping.withLock { _ = $0.remove(name) } }
        c?.abandon()
        // Rename first: atomic, so a crash leaves either the collection or a dot-name leftover.
        let gone = directory + "/.dropped-\(name)-\(UInt64.random(in: 0...UInt64.max))"
        try io(path, "rename") { () throws(Errno) in try FileSystem.rename(path, to: gone) }
        try io(directory, "fsync") { () throws(Errno) in try FileSystem.syncDirectory(directory) }
        StoreCatalog.removeTree(gone)
        logger(.info, "dropped collection '\(name)'")
    }

    static func removeTree(_ path: String) {
        guard FileSystem.isDirectory(path) else { return }
        for n in (try? FileSystem.contentsOfDirectory(path)) ?? [] {
            let p = path + "/" + n
            if FileSystem.isDirectory(p) { removeTree(p) } else { try? FileSystem.unlink(p) }
        }
        try? FileSystem.removeDirectory(path)
    }
}
