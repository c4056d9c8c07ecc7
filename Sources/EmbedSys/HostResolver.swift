@preconcurrency import Glibc

/// Host names to IP literals, for clients that connect by name (the Milvus writer): the one
/// place that calls the C resolver. `TCPEndpoint` itself never resolves.
public enum HostResolver {
    /// Why a name could not be resolved: `getaddrinfo`'s message, or no usable address.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// An IP literal for `host`: "localhost" and IP literals as they are, other names through
    /// `getaddrinfo(3)` (the first IPv4 or IPv6 address it lists).
    public static func address(of host: String) throws(Failure) -> String {
        if host == "localhost" || host.contains(":") || host.utf8.allSatisfy({ $0 == UInt8(ascii: ".") || ($0 >= 48 && $0 <= 57) }) {
            return host
        }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, nil, &hints, &list)
        guard rc == 0, let first = list else {
            throw Failure(description: "cannot resolve host '\(host)': \(String(decoding: Self.bytes(gai_strerror(rc)), as: UTF8.self))")
        }
        defer { freeaddrinfo(list) }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        var node: UnsafeMutablePointer<addrinfo>? = first
        while let n = node {
            if n.pointee.ai_family == AF_INET, let sa = n.pointee.ai_addr {
                var a = sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
                if inet_ntop(AF_INET, &a, &text, socklen_t(text.count)) != nil { return Self.string(text) }
            } else if n.pointee.ai_family == AF_INET6, let sa = n.pointee.ai_addr {
                var a = sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                if inet_ntop(AF_INET6, &a, &text, socklen_t(text.count)) != nil { return Self.string(text) }
            }
            node = n.pointee.ai_next
        }
        throw Failure(description: "host '\(host)' has no IPv4 or IPv6 address")
    }

    private static func string(_ text: [CChar]) -> String {
        String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func bytes(_ p: UnsafePointer<CChar>?) -> [UInt8] {
        guard let p else { return [] }
        var out: [UInt8] = []
        var i = 0
        while p[i] != 0 { out.append(UInt8(bitPattern: p[i])); i += 1 }
        return out
    }
}
