/// A TCP host and port as written on a command line: `127.0.0.1:8080`, `[::1]:8080`,
/// `localhost:19530` (the one host name accepted: it means 127.0.0.1; no DNS lookups).
public struct TCPEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// An IPv4 or IPv6 literal (IPv6 without brackets), or "localhost".
    public var host: String
    public var port: UInt16

    public init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT`; IPv6 literals go in brackets. Nil when the text is not that shape,
    /// the port is not 0–65535, or the host is neither an IP literal nor "localhost".
    public init?(parsing text: String) {
        let host: Substring, portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { return nil }
            portText = rest.dropFirst()
            guard host.contains(":") else { return nil }
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            guard !host.contains(":") else { return nil }  // an IPv6 literal needs brackets
        }
        guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy(\.isASCII), portText.allSatisfy(\.isNumber),
              let port = UInt16(portText) else { return nil }
        let endpoint = TCPEndpoint(host: String(host), port: port)
        guard endpoint.family != nil else { return nil }
        self = endpoint
    }

    /// Which address family the host is, or nil for anything but a literal or "localhost".
    public var family: TCPSocket.Family? {
        (try? TCPSocket.socketAddress(self))?.family
    }

    /// `host:port`, with brackets around an IPv6 host.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
