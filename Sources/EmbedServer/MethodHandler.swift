import EmbedWire

/// One entry of the server's dispatch table: how to serve one method id.
///
/// The table is keyed by `MethodID`, so the store methods of the serving issue (ids 32…41)
/// plug in with `Server.register` without touching the framing or connection code.
public struct MethodHandler: Sendable {
    /// Only uid 0 and the admin group may call it.
    public var requiresAdmin: Bool
    /// Where it runs.
    public var executor: Executor
    /// Allowed while the daemon drains after SIGTERM (e.g. Health, Status).
    public var allowedWhileDraining: Bool
    /// Decodes the request payload, does the work, returns the encoded response.
    public var handle: @Sendable (CallContext, [UInt8]) throws(RPCError) -> [UInt8]
    /// For `.deferred` handlers: starts the work and calls the completion exactly once, later.
    public var start: (@Sendable (CallContext, [UInt8], @escaping Completion) -> Void)?

    /// How a deferred handler delivers its result.
    public typealias Completion = @Sendable (Result<[UInt8], RPCError>) -> Void

    public init(requiresAdmin: Bool = false, executor: Executor, allowedWhileDraining: Bool = false,
                handle: @escaping @Sendable (CallContext, [UInt8]) throws(RPCError) -> [UInt8]) {
        self.requiresAdmin = requiresAdmin
        self.executor = executor
        self.allowedWhileDraining = allowedWhileDraining
        self.handle = handle
        self.start = nil
    }

    /// A deferred handler typed by its request and response messages: `body` runs on the event
    /// loop, must not block, and must call its completion exactly once.
    public static func deferred<Request: ProtoMessage, Response: ProtoMessage>(
        _ request: Request.Type, requiresAdmin: Bool = false,
        _ body: @escaping @Sendable (CallContext, Request, @escaping @Sendable (Result<Response, RPCError>) -> Void) -> Void
    ) -> MethodHandler {
        var h = MethodHandler(requiresAdmin: requiresAdmin, executor: .deferred) { (_, _) throws(RPCError) in
            throw RPCError(.internal, "deferred handler called synchronously")
        }
        h.start = { context, payload, completion in
            let req: Request
            do { req = try Request(serializedBytes: payload) } catch {
                completion(.failure(RPCError(.invalidArgument, "cannot decode \(Request.self): \(error)")))
                return
            }
            context.closeUnreferencedFiles(of: req)
            body(context, req) { result in completion(result.map { $0.serializedBytes() }) }
        }
        return h
    }

    /// A handler typed by its request and response messages.
    public static func typed<Request: ProtoMessage, Response: ProtoMessage>(
        _ request: Request.Type, requiresAdmin: Bool = false, executor: Executor, allowedWhileDraining: Bool = false,
        _ body: @escaping @Sendable (CallContext, Request) throws(RPCError) -> Response
    ) -> MethodHandler {
        MethodHandler(requiresAdmin: requiresAdmin, executor: executor, allowedWhileDraining: allowedWhileDraining) {
            (context, payload) throws(RPCError) in
            let req: Request
            do { req = try Request(serializedBytes: payload) } catch {
                throw RPCError(.invalidArgument, "cannot decode \(Request.self): \(error)")
            }
            context.closeUnreferencedFiles(of: req)
            return try body(context, req).serializedBytes()
        }
    }
}
