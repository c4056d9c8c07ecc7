// Swift side of bench/http: the same Embed calls through embedd-http (POST /v1/embeddings over
// keep-alive TCP) and straight over embedd's Unix socket, from the same load generator, so the
// client's own cost is alike on both paths: each sends a prepared request and reads the whole
// answer (HTTP: head + Content-Length body; socket: one RESPONSE frame), decoding neither's
// vectors. Prints one line per cell: path, batch, clients, p50/p99 (µs), calls/s, inputs/s.
//
//   http-bench --socket S --http 127.0.0.1:PORT [--duration 5] [--warmup 1] [--batches 1,32] [--clients 1,16]
import BenchSupport
import EmbedClient
import EmbedHTTP
import EmbedSys
import EmbedWire

let tool = BenchTool(name: "http-bench")
let opts = tool.options()
guard let socketPath = opts["socket"], let httpText = opts["http"], let endpoint = TCPEndpoint(parsing: httpText) else {
    tool.fail("usage: http-bench --socket PATH --http HOST:PORT [--duration S] [--warmup S] [--batches 1,32] [--clients 1,16] [--model NAME] [--key KEY]")
}
let duration = Double(opts["duration"] ?? "5") ?? 5
let warmup = Double(opts["warmup"] ?? "1") ?? 1
let batches = (opts["batches"] ?? "1,32").split(separator: ",").compactMap { Int($0) }
let clientCounts = (opts["clients"] ?? "1,16").split(separator: ",").compactMap { Int($0) }
let model = opts["model"] ?? ""
let key = opts["key"]

/// 32 different sentences of everyday length (10–20 words), the same on both paths.
let sentences: [String] = (0..<32).map { i in
    let subjects = ["The committee", "A small dog", "Our new neighbour", "The old lighthouse keeper", "Every student in the class",
                    "The quarterly report", "A sudden storm", "The city council"]
    let verbs = ["quietly reviewed", "ran across", "carefully painted", "could not explain", "was delighted by", "forgot about",
                 "argued over", "kept thinking about"]
    let objects = ["the proposal before the long holiday weekend", "the muddy field behind the railway station",
                   "a detailed map of the northern islands", "why the lights flickered every evening",
                   "the unexpected results of the experiment", "the budget for next year's festival"]
    return "\(subjects[i % subjects.count]) \(verbs[(i / 2) % verbs.count]) \(objects[(i * 5) % objects.count]) (\(i))."
}

func jsonString(_ s: String) -> String {
    var out = "\""
    for c in s.unicodeScalars {
        switch c {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        default: out.unicodeScalars.append(c)
        }
    }
    return out + "\""
}

/// One client connection of either kind.
protocol BenchClient { mutating func call() throws -> Void }

/// What a client needs to know (passed in: top-level values belong to the main actor).
struct Target: Sendable {
    var socketPath: String
    var endpoint: TCPEndpoint
    var model: String
    var key: String?
    var sentences: [String]
}

struct SocketClient: BenchClient {
    let client: EmbedClient
    let request: EmbedRequest
    init(batch: Int, _ t: Target) throws {
        client = try EmbedClient(socketPath: t.socketPath, clientName: "http-bench")
        request = EmbedRequest(model: t.model, inputs: t.sentences.prefix(batch).map { Input(kind: .text($0)) })
    }
    mutating func call() throws {
        let id = client.makeCallID()
        try client.send(.request(callID: id, method: .embed, deadlineMilliseconds: 0, message: request))
        _ = try client.awaitReply(callID: id)  // the whole frame, payload not decoded
    }
}

struct HTTPClient: BenchClient {
    let fd: FileDescriptor
    let request: [UInt8]
    var inbox: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 256 * 1024)
    init(batch: Int, _ t: Target) throws {
        fd = try TCPSocket.connect(t.endpoint)
        let body = "{\"model\":\(jsonString(t.model)),\"input\":[" + t.sentences.prefix(batch).map(jsonString).joined(separator: ",") + "]}"
        var headers: HTTPHeaders = ["Host": t.endpoint.description, "Content-Type": "application/json"]
        if let key = t.key { headers.append("Authorization", "Bearer \(key)") }
        request = HTTPRequestHead(method: "POST", target: "/v1/embeddings", headers: headers).serialized(body: Array(body.utf8))
    }
    struct Failure: Error, CustomStringConvertible { var description: String }
    mutating func fill() throws {
        let n = try chunk.withUnsafeMutableBytes { raw in try UnixSocket.receive(fd, into: raw) }
        guard let n, n > 0 else { throw Failure(description: "the gateway closed the connection") }
        inbox.append(contentsOf: chunk[0..<n])
    }
    mutating func call() throws {
        try UnixSocket.sendAll(fd, request)
        inbox.removeAll(keepingCapacity: true)
        var parsed: (head: HTTPResponseHead, length: Int)?
        while parsed == nil {
            try fill()
            parsed = try HTTPResponseHead.parse(inbox)
        }
        guard let (head, headLength) = parsed, head.status == 200, case .length(let n) = try head.framing(requestMethod: "POST") else {
            throw Failure(description: "unexpected answer: \(String(decoding: inbox.prefix(300), as: UTF8.self))")
        }
        while inbox.count < headLength + n { try fill() }
    }
}

final class Shared: @unchecked Sendable {
    let lock = ConditionLock()
    var socket: [Double] = []
    var http: [Double] = []
    var pairs: [Double] = []
    var failure: String?
}

/// Runs `clients` threads for `seconds`. Each thread holds one connection of each kind and
/// alternates its calls between them (socket, HTTP, socket, HTTP…), so both paths are sampled
/// under the same load at the same moments: on a shared 2-core machine, timing one path for a
/// few seconds and then the other measured the neighbours' builds more than the gateway.
/// Returns sorted latencies (seconds) of each path and the sorted differences of consecutive
/// (socket, HTTP) pairs.
func run(batch: Int, clients: Int, seconds: Double, warm: Double, target: Target) -> ([Double], [Double], [Double]) {
    let shared = Shared()
    let start = BenchTool.now() + 0.05
    let warmEnd = start + warm, end = warmEnd + seconds
    var threads: [OSThread] = []
    for _ in 0..<clients {
        threads.append(try! OSThread {
            var socketTimes: [Double] = [], httpTimes: [Double] = [], pairs: [Double] = []
            do {
                var s = try SocketClient(batch: batch, target)
                var h = try HTTPClient(batch: batch, target)
                while BenchTool.now() < start {}
                while true {
                    let t0 = BenchTool.now()
                    // At least one timed pair per thread, however slow the calls (batch 32 × 16 clients).
                    if t0 >= end && !pairs.isEmpty { break }
                    try s.call()
                    let t1 = BenchTool.now()
                    try h.call()
                    let t2 = BenchTool.now()
                    if t0 >= warmEnd || t0 >= end {
                        socketTimes.append(t1 - t0)
                        httpTimes.append(t2 - t1)
                        pairs.append((t2 - t1) - (t1 - t0))
                    }
                }
            } catch {
                shared.lock.withLock { shared.failure = "\(error)" }
            }
            shared.lock.withLock {
                shared.socket += socketTimes
                shared.http += httpTimes
                shared.pairs += pairs
            }
        })
    }
    for t in threads { t.join() }
    if let f = shared.failure { BenchTool(name: "http-bench").fail(f) }
    return (shared.socket.sorted(), shared.http.sorted(), shared.pairs.sorted())
}

func percentile(_ sorted: [Double], _ q: Double) -> Double { sorted.isEmpty ? .nan : sorted[min(sorted.count - 1, Int(q * Double(sorted.count)))] }
func micros(_ x: Double) -> String { x.isFinite ? String(Int((x * 1e6).rounded())) : "-1" }

let target = Target(socketPath: socketPath, endpoint: endpoint, model: model, key: key, sentences: sentences)
tool.print("path    batch clients    p50_us    p99_us   calls/s  inputs/s  paired_diff_p50_us")
for batch in batches {
    for clients in clientCounts {
        let (socketLat, httpLat, pairs) = run(batch: batch, clients: clients, seconds: duration, warm: warmup, target: target)
        for (path, lat) in [("socket", socketLat), ("http", httpLat)] {
            // Each path had half of each thread's time: calls/s is per path's share.
            let busy = lat.reduce(0, +) / Double(clients)
            let calls = busy > 0 ? Double(lat.count) / busy : 0
            let line = [path.padding(6), String(batch).leftPad(6), String(clients).leftPad(8),
                        micros(percentile(lat, 0.5)).leftPad(10), micros(percentile(lat, 0.99)).leftPad(10),
                        String(Int(calls.rounded())).leftPad(10), String(Int((calls * Double(batch)).rounded())).leftPad(10),
                        (path == "http" ? micros(percentile(pairs, 0.5)) : "-").leftPad(20)]
            tool.print(line.joined())
        }
    }
}

extension String {
    func padding(_ n: Int) -> String { count >= n ? self : self + String(repeating: " ", count: n - count) }
    func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
