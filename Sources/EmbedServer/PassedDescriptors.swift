import EmbedPluginHost
import EmbedSys
import EmbedWire
import Synchronization

/// The open files a client passed with one REQUEST frame (`SCM_RIGHTS`), owned by the call.
///
/// A class so that every copy of the call's context shares one owner: the descriptors close
/// when the last reference goes, i.e. after every thread working for the call is done with
/// them — never while a worker may still read one (a closed number could be reused by an
/// unrelated file in between).
///
/// Descriptors the request does not refer to are closed as soon as it is decoded
/// (`keepOnly(_:)`), so a client cannot park hundreds of open files in a slow call.
final class PassedDescriptors: Sendable {
    /// The descriptors in the order they were passed; nil once closed as unreferenced.
    private let open: Mutex<[FileDescriptor?]>
    /// How many were passed.
    let count: Int
    /// Contents already read, by index (inputs naming one file many times read it once), and
    /// the bytes read in all, which `read(_:limit:totalLimit:what:)` bounds per call.
    private let loaded = Mutex<(contents: [UInt32: [UInt8]], total: Int)>(([:], 0))
    /// Held while one of the files is read (see `read`).
    private let reading = Mutex(())

    init(_ descriptors: [FileDescriptor]) {
        open = Mutex(descriptors.map(Optional.some))
        count = descriptors.count
    }

    deinit {
        open.withLock { fds in for d in fds { try? d?.close() } }
    }

    /// Closes every descriptor whose index is not in `referenced` (the request's `FileRef`s).
    func keepOnly(_ referenced: Set<UInt32>) {
        let closing: [FileDescriptor] = open.withLock { fds in
            var out: [FileDescriptor] = []
            for i in fds.indices where !referenced.contains(UInt32(i)) {
                if let d = fds[i] { out.append(d) }
                fds[i] = nil
            }
            return out
        }
        for d in closing { try? d.close() }
    }

    /// The whole content of descriptor `index`, read from offset 0 without moving the client's
    /// file offset. Only regular files of at most `limit` bytes are accepted, and at most
    /// `totalLimit` bytes over all the call's files (`RESOURCE_EXHAUSTED` beyond: one frame may
    /// name a file a thousand times, or pass hundreds of big ones); each file is read once.
    /// The daemon never opens a path, so it reads only what the client could open itself.
    ///
    /// A descriptor is closed as soon as its content is read (later inputs naming it get the
    /// copy): a call waiting for its model then holds bytes, not open files. Reads of one
    /// call's files are serialised, so a descriptor is never closed while another thread reads it.
    func read(_ index: UInt32, limit: Int, totalLimit: Int, what: String) throws(RPCError) -> [UInt8] {
        try reading.withLock { _ throws(RPCError) -> [UInt8] in
            if let cached = loaded.withLock({ $0.contents[index] }) { return cached }
            let bytes = try readFile(index, limit: limit, what: what)
            try loaded.withLock { (l) throws(RPCError) in
                guard l.total + bytes.count <= totalLimit else {
                    throw RPCError(.resourceExhausted, "\(what): the files passed with this call hold more than \(totalLimit) bytes "
                                   + "in all (4 × limits.max_frame_bytes); send them in several calls")
                }
                l.total += bytes.count
                l.contents[index] = bytes
            }
            if let fd = open.withLock({ fds in defer { fds[Int(index)] = nil }; return fds[Int(index)] }) { try? fd.close() }
            return bytes
        }
    }

    /// Up to `count` bytes from the start of descriptor `index` (to sniff its media type),
    /// without moving the client's file offset or closing it.
    func peek(_ index: UInt32, count wanted: Int, what: String) throws(RPCError) -> [UInt8] {
        if let cached = loaded.withLock({ $0.contents[index] }) { return Array(cached.prefix(wanted)) }
        let fd = try regularFile(index, what: what).fd
        var out = [UInt8](repeating: 0, count: wanted)
        let n: Int
        do {
            n = try out.withUnsafeMutableBytes { raw in
                try Result { () throws(Errno) in try fd.read(fromAbsoluteOffset: 0, into: raw) }.get()
            }
        } catch {
            throw RPCError(.invalidArgument, "\(what): cannot read file #\(index): \(error) (was it opened for reading?)")
        }
        return Array(out.prefix(n))
    }

    /// Descriptor `index` for a plugin that reads files itself (ABI 1.1 `EMBEDD_INPUT_FD`): a
    /// duplicate the input owns, so the file stays open while the call is queued or running
    /// however this set is closed. Only regular files, of any size (nothing is copied).
    func openFile(_ index: UInt32, what: String) throws(RPCError) -> OpenFile {
        try reading.withLock { _ throws(RPCError) -> OpenFile in
            let (fd, size) = try regularFile(index, what: what)
            do { return try OpenFile(duplicating: fd, size: size) } catch {
                throw RPCError(.resourceExhausted, "\(what): cannot duplicate file #\(index): \(error)")
            }
        }
    }

    /// Open descriptor `index`, checked to be a regular file, and its size.
    private func regularFile(_ index: UInt32, what: String) throws(RPCError) -> (fd: FileDescriptor, size: Int64) {
        guard Int(index) < count else {
            throw RPCError(.invalidArgument, "\(what): file #\(index) was not passed with the call (\(count) descriptor(s) arrived)")
        }
        guard let fd = open.withLock({ $0[Int(index)] }) else {
            throw RPCError(.internal, "\(what): file #\(index) is closed (unreferenced by the request, or already read)")
        }
        let size: Int64?
        do { size = try DescriptorPassing.regularFileSize(fd) } catch {
            throw RPCError(.invalidArgument, "\(what): cannot stat file #\(index): \(error)")
        }
        guard let size else { throw RPCError(.invalidArgument, "\(what): file #\(index) is not a regular file") }
        return (fd, size)
    }

    private func readFile(_ index: UInt32, limit: Int, what: String) throws(RPCError) -> [UInt8] {
        let (fd, size) = try regularFile(index, what: what)
        guard size <= Int64(limit) else {
            throw RPCError(.outOfRange, "\(what): file #\(index) has \(size) bytes; the limit is \(limit)")
        }
        var out = [UInt8](repeating: 0, count: Int(size))
        var done = 0
        while done < out.count {
            let n: Int
            do {
                n = try out.withUnsafeMutableBytes { raw in
                    try Result { () throws(Errno) in
                        try fd.read(fromAbsoluteOffset: Int64(done), into: UnsafeMutableRawBufferPointer(rebasing: raw[done...]))
                    }.get()
                }
            } catch {
                throw RPCError(.invalidArgument, "\(what): cannot read file #\(index): \(error) (was it opened for reading?)")
            }
            if n == 0 { break }  // the file shrank meanwhile: take what is there
            done += n
        }
        if done < out.count { out.removeLast(out.count - done) }
        return out
    }
}
