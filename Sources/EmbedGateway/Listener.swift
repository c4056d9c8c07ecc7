import EmbedConfig
import EmbedSys

/// A listening socket of the gateway: TCP (clients need a key) or Unix (the file's mode and
/// group decide who may connect).
public struct Listener: Sendable {
    public var fd: FileDescriptor
    public var isTCP: Bool
    /// What logs call it: `127.0.0.1:8080` or `unix:/run/embedd/http.sock`.
    public var name: String
    /// The socket file we created (removed at exit); nil for TCP and for systemd's sockets.
    public var ownedPath: String?

    /// The sockets systemd passed (`LISTEN_FDS`): listening TCP or Unix stream sockets.
    /// - Returns: nil when not socket-activated.
    public static func fromSystemd() throws(GatewayError) -> [Listener]? {
        let fds = SdNotify.listenDescriptors()
        guard !fds.isEmpty else { return nil }
        var listeners: [Listener] = []
        for fd in fds {
            if let endpoint = TCPSocket.localEndpoint(fd), TCPSocket.isListeningTCP(fd) {
                listeners.append(Listener(fd: fd, isTCP: true, name: endpoint.description, ownedPath: nil))
            } else if UnixSocket.isListeningUnixStream(fd) {
                listeners.append(Listener(fd: fd, isTCP: false, name: "unix:" + (UnixSocket.boundPath(fd) ?? "?"), ownedPath: nil))
            }
        }
        guard !listeners.isEmpty else {
            throw GatewayError("socket activation passed \(fds.count) descriptor(s) but none is a listening TCP or Unix stream socket")
        }
        for l in listeners { try? l.fd.setCloseOnExec() }
        return listeners
    }

    /// Opens `address`. A Unix socket gets `mode` and `group` (the daemon socket's, so the same
    /// users may connect); a stale file is replaced, a live one or a non-socket refused.
    public static func open(_ address: HTTPListenAddress, mode: UInt32, gid: UInt32?) throws(GatewayError) -> Listener {
        switch address {
        case .tcp(let endpoint):
            do {
                let fd = try TCPSocket.listen(endpoint)
                let bound = TCPSocket.localEndpoint(fd) ?? endpoint
                return Listener(fd: fd, isTCP: true, name: bound.description, ownedPath: nil)
            } catch {
                throw GatewayError("cannot listen on \(endpoint): \(error)")
            }
        case .unix(let path):
            switch UnixSocket.probe(path: path) {
            case .live: throw GatewayError("another server is already listening on \(path); not touching it")
            case .notASocket: throw GatewayError("\(path) exists and is not a socket; refusing to replace it")
            case .stale: try? FileSystem.unlink(path)
            case .absent: break
            }
            let fd: FileDescriptor
            do { fd = try UnixSocket.listen(path: path, backlog: 512, createMode: mode & 0o700) } catch {
                throw GatewayError("cannot listen on \(path): \(error)")
            }
            if let gid { try? UserDatabase.changeGroup(path: path, to: gid) }
            do { try UserDatabase.changeMode(path: path, to: mode) } catch {
                try? fd.close()
                throw GatewayError("cannot set mode \(String(mode, radix: 8)) on \(path): \(error)")
            }
            return Listener(fd: fd, isTCP: false, name: "unix:" + path, ownedPath: path)
        }
    }
}

/// A reason the gateway cannot start, said in one line.
public struct GatewayError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
