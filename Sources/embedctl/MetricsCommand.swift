import EmbedCLI
import EmbedClient
import EmbedWire

/// `embedctl metrics`: the daemon's Prometheus metrics, printed as the daemon wrote them.
struct MetricsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        name: "metrics", abstract: "Print the daemon's Prometheus metrics (text exposition format).",
        discussion: """
        Prints what a Prometheus scrape of embedd-http's GET /metrics returns, unchanged: HELP and
        TYPE lines, then samples (calls by method and status code, latency histograms, batch sizes,
        queue depths, model states, collection sizes, process figures). Series per collection cover
        only the collections you may read. docs/operations.md ("Metrics") describes every series.
        Example: embedctl metrics | grep '^embedd_calls_total'
        """)
    var connection = ConnectionOptions()
    static var arguments: [Argument<Self>] { [.group(\.connection)] }

    func run() throws(CLIError) {
        let client = try connection.connect()
        defer { client.close() }
        let text: String
        do { text = try client.metrics(deadlineMilliseconds: connection.deadlineMilliseconds) } catch {
            if case .rpc(let status, _) = error, status == .unimplemented {
                let h = client.serverHello
                throw .runtime("\(h.server.isEmpty ? "the daemon" : h.server) (protocol \(h.major).\(h.minor)) has no Metrics call: it came with protocol 1.3; upgrade the daemon")
            }
            throw .runtime(error.description)
        }
        Output.out(text)
    }
}
