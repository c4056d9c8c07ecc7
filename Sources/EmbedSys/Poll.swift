@preconcurrency import Glibc

/// Waits for readiness on a set of descriptors (`poll(2)`), the core of the server's event loop.
public enum Poll {
    /// Events to wait for / that happened (the `POLL*` bits).
    public struct Events: OptionSet, Sendable, Hashable {
        public let rawValue: Int16
        public init(rawValue: Int16) { self.rawValue = rawValue }
        public static let readable = Events(rawValue: Int16(POLLIN))
        public static let writable = Events(rawValue: Int16(POLLOUT))
        public static let error = Events(rawValue: Int16(POLLERR))
        public static let hangUp = Events(rawValue: Int16(POLLHUP))
        public static let invalid = Events(rawValue: Int16(POLLNVAL))
    }

    /// One descriptor to watch and, after `wait`, what happened to it.
    public struct Entry: Sendable {
        public var descriptor: FileDescriptor
        public var events: Events
        public var returned: Events = []
        public init(_ descriptor: FileDescriptor, _ events: Events) {
            self.descriptor = descriptor
            self.events = events
        }
    }

    /// Waits until an entry is ready or `timeoutMilliseconds` pass (-1 = forever).
    /// EINTR counts as a timeout (returns 0) so the caller re-checks its state.
    /// - Returns: the number of ready entries; their `returned` fields are filled in.
    @inline(never)
    public static func wait(_ entries: inout [Entry], timeoutMilliseconds: Int32) throws(Errno) -> Int {
        var fds = entries.map { pollfd(fd: $0.descriptor.rawValue, events: $0.events.rawValue, revents: 0) }
        let n = Glibc.poll(&fds, nfds_t(fds.count), timeoutMilliseconds)
        if n < 0 {
            let e = Errno.current
            if e == .interrupted { return 0 }
            throw e
        }
        for i in entries.indices { entries[i].returned = Events(rawValue: fds[i].revents) }
        return Int(n)
    }
}
