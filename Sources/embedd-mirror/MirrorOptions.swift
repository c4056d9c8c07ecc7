import EmbedSys

/// `embedd-mirror`'s command line (docs/milvus.md, "Mirror").
struct MirrorOptions {
    var collection = ""
    /// The registered mirror to run; nil: the collection's only one.
    var target: String? = Environment.get("EMBEDD_MIRROR_TARGET").flatMap { $0.isEmpty ? nil : $0 }
    var socket = Environment.get("EMBEDD_SOCKET").flatMap { $0.isEmpty ? nil : $0 } ?? "/run/embedd/embedd.sock"
    /// Milvus credentials: `--token-file`, else `MILVUS_TOKEN` (never on the command
    /// line of a long-running process, where `ps` shows it).
    var token: String? = Environment.get("MILVUS_TOKEN").flatMap { $0.isEmpty ? nil : $0 }
    /// Records per Changes page and per Milvus request.
    var batch = 1000
    /// Wait between polls when caught up (seconds).
    var poll = 0.2
    /// Stop once caught up (tests, one-shot catch-up).
    var once = false
    /// Create the Milvus collection when it does not exist (a mirror registered on an empty
    /// collection needs no export; otherwise the export creates it).
    var create = false

    static let usage = """
    usage: embedd-mirror COLLECTION [--target milvus://HOST:PORT/NAME] [--socket PATH]
                         [--token-file FILE] [--batch N] [--poll SECONDS] [--once] [--create]

    Forwards a collection's writes to the Milvus mirror registered with
    `embedctl collection mirror COLLECTION milvus://…`, from its durable cursor, in log order.
    The token comes from --token-file or MILVUS_TOKEN, the target also from
    EMBEDD_MIRROR_TARGET. Exit status 2: the mirror is
    stale or not registered (export again, then `embedctl collection mirror … --reset`).
    """

    static func parse(_ args: [String]) throws(MirrorFailure) -> MirrorOptions {
        var o = MirrorOptions()
        var i = 0
        func value(_ name: String) throws(MirrorFailure) -> String {
            i += 1
            guard i < args.count else { throw .usage("\(name) needs a value") }
            return args[i]
        }
        while i < args.count {
            let a = args[i]
            switch a {
            case "-h", "--help": throw .help
            case "--target": o.target = try value(a)
            case "--socket": o.socket = try value(a)
            case "--token-file":
                let path = try value(a)
                do {
                    let bytes = try FileSystem.readFile(path, limit: 64 << 10)
                    o.token = String(decoding: bytes, as: UTF8.self).trimmingWhitespace
                } catch { throw .usage("cannot read the token file \(path): \(error)") }
            case "--batch":
                guard let n = Int(try value(a)), (1...100_000).contains(n) else { throw .usage("--batch needs a number of records from 1 to 100000") }
                o.batch = n
            case "--poll":
                guard let s = Double(try value(a)), s > 0, s <= 60 else { throw .usage("--poll needs seconds between 0 and 60") }
                o.poll = s
            case "--once": o.once = true
            case "--create": o.create = true
            default:
                guard !a.hasPrefix("-"), o.collection.isEmpty else { throw .usage("unexpected argument \"\(a)\"") }
                o.collection = a
            }
            i += 1
        }
        guard !o.collection.isEmpty else { throw .usage("no collection named") }
        return o
    }
}

extension String {
    var trimmingWhitespace: String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\n" || c == "\r" || c == "\t" { s = s.dropFirst() }
        while let c = s.last, c == " " || c == "\n" || c == "\r" || c == "\t" { s = s.dropLast() }
        return String(s)
    }
}
