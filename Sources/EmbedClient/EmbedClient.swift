import EmbedSys
import EmbedWire

/// A blocking client for embedd's socket protocol (proto/embedd.proto, docs/protocol.md).
///
/// One connection, handshake on connect. `call` sends a request and waits for its reply;
/// `send` / `nextFrame` expose the frames for callers that pipeline or cancel. Not thread-safe:
/// use one client per thread.
public final class EmbedClient {
    public let socketPath: String
    let fd: FileDescriptor  // internal: EmbedClient+Store sends descriptors on it
    private var inbox: [UInt8] = []
    private var inboxStart = 0
    private var nextCallID: UInt32 = 1
    private var early: [UInt32: Frame] = [:]
    private var isClosed = false
    private let decoder = FrameDecoder(maxPayloadBytes: 1 << 30)
    /// The server's answer to our HELLO.
    public private(set) var serverHello = HelloReply()

    /// Connects and performs the version handshake.
    /// - Parameter timeoutSeconds: gives up on any single read after this long (nil = wait).
    public init(socketPath: String, clientName: String = "embedctl/0.1", timeoutSeconds: Double? = nil) throws(ClientError) {
        self.socketPath = socketPath
        do { fd = try UnixSocket.connect(path: socketPath) } catch {
            // connect(2) answers ECONNREFUSED for a path that is no socket at all; say which.
            if error == .connectionRefused && FileSystem.isDirectory(socketPath) { throw .connect(path: socketPath, .isDirectory) }
            if error == .connectionRefused && FileSystem.isRegularFile(socketPath) { throw .connect(path: socketPath, .notASocket) }
            throw .connect(path: socketPath, error)
        }
        if let t = timeoutSeconds { try? UnixSocket.setReceiveTimeout(fd, seconds: t) }
        do throws(ClientError) {
            // A server that refuses us (too many connections) writes GOAWAY and closes at once,
            // so our HELLO may hit a closed socket: read its GOAWAY before reporting that.
            var sendError: ClientError?
            do throws(ClientError) {
                try send(.hello(Hello(major: ProtocolVersion.major, minor: ProtocolVersion.minor, client: clientName)))
            } catch {
                sendError = error
            }
            let reply: Frame
            do throws(ClientError) { reply = try nextFrame() } catch { throw sendError ?? error }
            if reply.kind == .goAway {
                let message = (try? reply.decodePayload(as: RpcStatus.self).message) ?? ""
                throw ClientError.goAway(reply.status, message)
            }
            guard reply.kind == .hello else { throw ClientError.protocolViolation("expected HELLO, got \(reply.kind)") }
            do { serverHello = try reply.decodePayload(as: HelloReply.self) } catch {
                throw ClientError.protocolViolation("cannot decode HelloReply: \(error)")
            }
        } catch {
            close()
            throw error
        }
    }

    deinit { close() }

    /// Closes the connection.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        try? fd.close()
    }

    /// Allocates a call id.
    public func makeCallID() -> UInt32 {
        defer { nextCallID &+= 1; if nextCallID == 0 { nextCallID = 1 } }
        return nextCallID
    }

    /// Calls `method` and waits for its reply.
    /// - Throws: `ClientError.rpc` with the server's status when the call fails.
    public func call<Response: ProtoMessage>(_ method: MethodID, _ request: some ProtoMessage, as: Response.Type = Response.self,
                                             deadlineMilliseconds: UInt32 = 0) throws(ClientError) -> Response {
        let id = makeCallID()
        try send(.request(callID: id, method: method, deadlineMilliseconds: deadlineMilliseconds, message: request))
        let reply = try awaitReply(callID: id)
        do { return try reply.decodePayload(as: Response.self) } catch {
            throw .protocolViolation("cannot decode \(Response.self): \(error)")
        }
    }

    /// Waits for the RESPONSE to `callID` (buffering replies to other calls); throws its status if not OK.
    public func awaitReply(callID: UInt32) throws(ClientError) -> Frame {
        while true {
            let frame: Frame
            if let f = early.removeValue(forKey: callID) { frame = f } else { frame = try nextFrame() }
            switch frame.kind {
            case .response where frame.callID == callID:
                if frame.status != .ok {
                    let message = (try? frame.decodePayload(as: RpcStatus.self).message) ?? ""
                    throw .rpc(frame.status, message)
                }
                return frame
            case .response:
                early[frame.callID] = frame
            case .goAway:
                let message = (try? frame.decodePayload(as: RpcStatus.self).message) ?? ""
                throw .goAway(frame.status, message)
            default:
                throw .protocolViolation("unexpected \(frame.kind) frame from the server")
            }
        }
    }

    /// Sends one frame.
    public func send(_ frame: Frame) throws(ClientError) {
        try sendRaw(frame.encoded())
    }

    /// Sends raw bytes (tests use it to send malformed frames).
    public func sendRaw(_ bytes: [UInt8]) throws(ClientError) {
        guard !isClosed else { throw .closed }
        do { try UnixSocket.sendAll(fd, bytes) } catch {
            if error == .brokenPipe || error == .connectionReset { throw .closed }
            throw .io(error)
        }
    }

    /// Reads the next frame from the server.
    public func nextFrame() throws(ClientError) -> Frame {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            do {
                if let (frame, used) = try decoder.decode(inbox, from: inboxStart) {
                    inboxStart += used
                    if inboxStart > 1 << 20 || inboxStart == inbox.count {
                        inbox.removeFirst(inboxStart)
                        inboxStart = 0
                    }
                    return frame
                }
            } catch {
                throw .protocolViolation("\(error)")
            }
            guard !isClosed else { throw .closed }
            let result = chunk.withUnsafeMutableBytes { raw in
                Result { () throws(Errno) in try UnixSocket.receive(fd, into: raw) }
            }
            switch result {
            case .failure(let e):
                if e == .connectionReset { throw .closed }
                throw .io(e)
            case .success(nil): throw .timedOut
            case .success(0): throw .closed
            case .success(let n?): inbox.append(contentsOf: chunk[..<n])
            }
        }
    }
}
