/// A Milvus collection address: `milvus://HOST[:PORT]/[DATABASE/]COLLECTION`.
///
/// HOST is a name, an IPv4 address or a bracketed IPv6 address (`[::1]`); PORT defaults to
/// 19530 (Milvus's proxy, which also serves the REST API from 2.3 on). The collection name
/// follows Milvus's rule: a letter or `_` first, then letters, digits and `_`, at most 255.
/// There is no TLS: `milvus+https://` and other schemes are refused with that reason.
public struct MilvusURL: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    /// The database (`dbName`); nil means Milvus's `default`.
    public var database: String?
    public var collection: String

    public static let defaultPort = 19530

    public init(host: String, port: Int = MilvusURL.defaultPort, database: String? = nil, collection: String) {
        self.host = host
        self.port = port
        self.database = database
        self.collection = collection
    }

    /// Parses `text`; the error names the part that is wrong and shows the expected form.
    public init(parsing text: String) throws(MilvusError) {
        let form = "expected milvus://HOST:PORT/COLLECTION (or milvus://HOST:PORT/DATABASE/COLLECTION), got '\(text)'"
        guard let colon = text.firstIndex(of: ":"), text[colon...].hasPrefix("://") else { throw .badURL(form) }
        let scheme = text[..<colon].lowercased()
        guard scheme == "milvus" else {
            if scheme.hasPrefix("http") || scheme.hasSuffix("https") {
                throw .badURL("scheme '\(scheme)' is not supported (plain HTTP only, written milvus://): \(form)")
            }
            throw .badURL("unknown scheme '\(scheme)': \(form)")
        }
        let rest = text[text.index(colon, offsetBy: 3)...]
        guard let slash = rest.firstIndex(of: "/") else { throw .badURL("no collection name: \(form)") }
        let authority = rest[..<slash]
        let path = rest[rest.index(after: slash)...]
        guard !authority.contains("@") else {
            throw .badURL("credentials in the URL are not accepted (they would show in process lists): use --token")
        }
        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw .badURL("unclosed '[' in the host: \(form)") }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw .badURL("junk after ']': \(form)") }
                portText = after.dropFirst()
            }
        } else if let colon = authority.firstIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        guard !host.isEmpty else { throw .badURL("no host: \(form)") }
        var port = Self.defaultPort
        if let portText {
            guard let p = Int(portText), (1...65535).contains(p), portText.allSatisfy(\.isASCII) else {
                throw .badURL("port '\(portText)' is not a number from 1 to 65535")
            }
            port = p
        }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        let database: Substring?
        let collection: Substring
        switch parts.count {
        case 1: database = nil; collection = parts[0]
        case 2: database = parts[0]; collection = parts[1]
        default: throw .badURL("too many path parts in '\(path)': \(form)")
        }
        guard !collection.isEmpty else { throw .badURL("no collection name: \(form)") }
        if let database { try Self.checkName(database, what: "database") }
        try Self.checkName(collection, what: "collection")
        self.init(host: String(host), port: port, database: database.map(String.init), collection: String(collection))
    }

    /// Milvus's naming rule for collections and databases.
    static func checkName(_ name: Substring, what: String) throws(MilvusError) {
        guard let first = name.unicodeScalars.first, name.unicodeScalars.count <= 255 else {
            throw .badURL("\(what) name '\(name)' must have 1 to 255 characters")
        }
        func isLetter(_ u: Unicode.Scalar) -> Bool { (u >= "a" && u <= "z") || (u >= "A" && u <= "Z") || u == "_" }
        guard isLetter(first), name.unicodeScalars.allSatisfy({ isLetter($0) || ($0 >= "0" && $0 <= "9") }) else {
            throw .badURL("\(what) name '\(name)' is not a Milvus name (a letter or '_' first, then letters, digits and '_')")
        }
    }

    /// `milvus://HOST:PORT/[DATABASE/]COLLECTION`, IPv6 hosts bracketed.
    public var description: String {
        let h = host.contains(":") ? "[\(host)]" : host
        return "milvus://\(h):\(port)/" + (database.map { $0 + "/" } ?? "") + collection
    }
}
