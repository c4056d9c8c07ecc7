@testable import EmbedStore
import EmbedJSON
import Testing

/// What each filter operator matches, and that the lazy scan on the search path decides as a
/// straightforward evaluator over the parsed JSON tree does (random filters × varied metadata).
@Suite struct FilterEvaluationTests {
    func matches(_ filter: String, _ metadata: String) throws -> Bool {
        let f = try #require(try MetadataFilter(json: filter))
        return Array(metadata.utf8).withUnsafeBytes { f.matches($0) }
    }

    /// (filter, metadata, expected) rows, one concern per group.
    static let rows: [(String, String, Bool)] = [
        // Equality and any-of: numbers by value, strings by bytes, types never mix.
        (#"{"n": 1}"#, #"{"n": 1.0}"#, true), (#"{"n": 1}"#, #"{"n": "1"}"#, false), (#"{"n": true}"#, #"{"n": 1}"#, false),
        (#"{"z": null}"#, #"{"z": null}"#, true), (#"{"z": null}"#, #"{}"#, false), (#"{"n": [2, 3]}"#, #"{"n": 3}"#, true),
        (#"{"s": "\u00e9"}"#, #"{"s": "é"}"#, true), (#"{"s": "é"}"#, #"{"s": "e\u0301"}"#, false),
        // ne / nin: negations, so a missing field or another type matches.
        (#"{"n": {"$ne": 1}}"#, #"{"n": 2}"#, true), (#"{"n": {"$ne": 1}}"#, #"{"n": 1}"#, false),
        (#"{"n": {"$ne": 1}}"#, #"{}"#, true), (#"{"n": {"$ne": 1}}"#, #"{"n": "1"}"#, true), (#"{"n": {"$ne": 1}}"#, "", true),
        (#"{"n": {"$nin": [1, 2]}}"#, #"{"n": 3}"#, true), (#"{"n": {"$nin": [1, 2]}}"#, #"{"n": 2}"#, false),
        (#"{"n": {"$nin": [1, 2]}}"#, #"{"m": 2}"#, true),
        // Order: numbers by value, strings by UTF-8 bytes, other types and mixed types never.
        (#"{"n": {"$gt": 1}}"#, #"{"n": 1.5}"#, true), (#"{"n": {"$gt": 1}}"#, #"{"n": 1}"#, false),
        (#"{"n": {"$gte": 1}}"#, #"{"n": 1}"#, true), (#"{"n": {"$lt": 0}}"#, #"{"n": -0.5e1}"#, true),
        (#"{"n": {"$lte": -5}}"#, #"{"n": -5}"#, true), (#"{"n": {"$lt": 10}}"#, #"{"n": "5"}"#, false),
        (#"{"n": {"$gt": 1}}"#, #"{"n": true}"#, false), (#"{"n": {"$gt": 1}}"#, #"{"n": null}"#, false),
        (#"{"n": {"$gt": 1}}"#, #"{"n": {"v": 5}}"#, false), (#"{"n": {"$gt": 1}}"#, #"{}"#, false),
        (#"{"s": {"$gt": "apple"}}"#, #"{"s": "banana"}"#, true), (#"{"s": {"$gt": "apple"}}"#, #"{"s": "apple"}"#, false),
        (#"{"s": {"$gt": "app"}}"#, #"{"s": "apple"}"#, true), (#"{"s": {"$lt": "a"}}"#, #"{"s": "Z"}"#, true),
        (#"{"s": {"$gt": "z"}}"#, #"{"s": "é"}"#, true), (#"{"s": {"$gte": "\u00e9"}}"#, #"{"s": "\u00e9t\u00e9"}"#, true),
        (#"{"s": {"$lt": "b"}}"#, #"{"s": "a\"b"}"#, true), (#"{"s": {"$gt": "2"}}"#, #"{"s": 10}"#, false),
        (#"{"n": {"$gt": 9007199254740992}}"#, #"{"n": 9007199254740993}"#, false),  // doubles: rounded alike
        (#"{"n": {"$gte": 2, "$lt": 5}}"#, #"{"n": 5}"#, false), (#"{"n": {"$gte": 2, "$lt": 5}}"#, #"{"n": 2}"#, true),
        // exists: any value counts, null included.
        (#"{"z": {"$exists": true}}"#, #"{"z": null}"#, true), (#"{"z": {"$exists": true}}"#, #"{"y": 1}"#, false),
        (#"{"z": {"$exists": false}}"#, #"{"y": 1}"#, true), (#"{"z": {"$exists": false}}"#, #"{"z": [1]}"#, false),
        (#"{"z": {"$exists": true}}"#, #"{"z": {}}"#, true),
        // Arrays: comparisons hold for some element; contains needs an array.
        (#"{"t": "b"}"#, #"{"t": ["a", "b"]}"#, true), (#"{"t": ["c", "a"]}"#, #"{"t": ["a", "b"]}"#, true),
        (#"{"t": {"$ne": "b"}}"#, #"{"t": ["a", "b"]}"#, false), (#"{"t": {"$ne": "c"}}"#, #"{"t": ["a", "b"]}"#, true),
        (#"{"t": {"$gt": 5}}"#, #"{"t": [1, 7]}"#, true), (#"{"t": {"$gt": 7}}"#, #"{"t": [1, 7]}"#, false),
        (#"{"t": {"$gt": 5, "$lt": 3}}"#, #"{"t": [1, 7]}"#, true),  // each operator may use its own element (as in Mongo)
        (#"{"t": {"$contains": "a"}}"#, #"{"t": ["a", "b"]}"#, true), (#"{"t": {"$contains": "a"}}"#, #"{"t": "a"}"#, false),
        (#"{"t": {"$contains": 1}}"#, #"{"t": [1.0]}"#, true), (#"{"t": {"$contains": 1}}"#, #"{"t": [[1], {"a": 1}]}"#, false),
        (#"{"t": 1}"#, #"{"t": [[1]]}"#, false), (#"{"t": {"$contains": null}}"#, #"{"t": [null]}"#, true),
        (#"{"t": {"$contains": "x"}}"#, #"{"t": []}"#, false), (#"{"t": {"$nin": ["x"]}}"#, #"{"t": []}"#, true),
        // Nesting.
        (#"{"$or": [{"a": 1}, {"b": 1}]}"#, #"{"b": 1}"#, true), (#"{"$or": [{"a": 1}, {"b": 1}]}"#, #"{"a": 2, "b": 2}"#, false),
        (#"{"$and": [{"a": 1}, {"b": 1}]}"#, #"{"a": 1, "b": 1}"#, true), (#"{"$and": [{"a": 1}, {"b": 1}]}"#, #"{"a": 1}"#, false),
        (#"{"$not": {"a": 1, "b": 1}}"#, #"{"a": 1}"#, true), (#"{"$not": {"a": 1}}"#, #"{"a": 1}"#, false),
        (#"{"a": {"$not": {"$gt": 5}}}"#, #"{"a": 3}"#, true), (#"{"a": {"$not": {"$gt": 5}}}"#, #"{}"#, true),
        (#"{"a": {"$not": [1, 2]}}"#, #"{"a": 2}"#, false),
        (#"{"$or": [{"$and": [{"a": 1}, {"$not": {"b": 2}}]}, {"c": {"$exists": true}}], "d": {"$ne": 0}}"#, #"{"a": 1, "b": 3}"#, true),
        (#"{"$or": [{"$and": [{"a": 1}, {"$not": {"b": 2}}]}, {"c": {"$exists": true}}], "d": {"$ne": 0}}"#, #"{"a": 1, "b": 2}"#, false),
        (#"{"$or": [{"$and": [{"a": 1}, {"$not": {"b": 2}}]}, {"c": {"$exists": true}}], "d": {"$ne": 0}}"#, #"{"b": 2, "c": null}"#, true),
        (#"{"$or": [{"$and": [{"a": 1}, {"$not": {"b": 2}}]}, {"c": {"$exists": true}}], "d": {"$ne": 0}}"#, #"{"c": 1, "d": 0}"#, false),
        // Dotted paths into objects; a key containing a dot stays reachable.
        (#"{"o.x": 1}"#, #"{"o": {"x": 1}}"#, true), (#"{"o.x": 1}"#, #"{"o": {"y": 1}}"#, false),
        (#"{"o.p.q": "v"}"#, #"{"o": {"p": {"q": "v"}}}"#, true), (#"{"o.x": 1}"#, #"{"o.x": 1}"#, true),
        (#"{"o.x": 1}"#, #"{"o": [{"x": 1}]}"#, false), (#"{"o.x": {"$exists": false}}"#, #"{"o": 5}"#, true),
        (#"{"o": {"$exists": true}, "o.x": {"$gt": 0}}"#, #"{"o": {"x": 2}}"#, true),
        (#"{"o.x": 1, "o.y": 2}"#, #"{"o": {"y": 2, "x": 1}}"#, true),
        // Duplicate names: a comparison holds if it holds for either.
        (#"{"a": 2}"#, #"{"a": 1, "a": 2}"#, true), (#"{"a": {"$ne": 2}}"#, #"{"a": 1, "a": 2}"#, false),
        // Escapes in names and values; a field named with an escape.
        (#"{"k\"ey": "v\\w"}"#, #"{"k\"ey": "v\\w"}"#, true), (#"{"ab": 1}"#, #"{"\u0061b": 1}"#, true),
        // Damaged bytes never match (stored metadata is checked at upsert).
        (#"{"n": {"$ne": 1}}"#, #"{"n": 2"#, false), (#"{"n": {"$ne": 1}}"#, "[1]", false),
    ]

    @Test func everyOperator() throws {
        for (filter, metadata, want) in Self.rows {
            #expect(try matches(filter, metadata) == want, "\(filter) on \(metadata)")
        }
    }

    @Test func stopsEarlyOnlyWhenDecided() throws {
        // A conjunction is true as soon as every leaf is found; a violated $ne decides false.
        #expect(try matches(#"{"a": 1, "b": 2}"#, #"{"a": 1, "b": 2, "c": [1, {"x": 2}]}"#))
        #expect(try !matches(#"{"a": {"$ne": 1}, "b": 2}"#, #"{"a": 1, "b": 2}"#))
        // The rest of the object is not read once decided (a damaged tail does not matter)...
        #expect(try matches(#"{"a": 1}"#, #"{"a": 1, "b": "#))
        // ...but must be read when still undecided.
        #expect(try !matches(#"{"a": {"$ne": 1}}"#, #"{"a": 2, "b": "#))
    }

    // MARK: Random filters against a reference evaluator

    /// Metadata covering types, arrays, nesting, duplicates and escapes.
    static let corpus = [
        #"{}"#, #"{"a": 1, "b": "x", "t": ["x", 2, true, null]}"#, #"{"a": 2.5, "b": "y", "o": {"x": 1, "y": "x"}}"#,
        #"{"a": "1", "b": null, "t": [], "o": {"x": {"z": 3}}}"#, #"{"a": true, "a": 3, "t": "x"}"#,
        #"{"b": "é", "t": [["x"], {"a": 1}], "o.x": 2}"#, #"{"b": "e\u0301", "n": -4, "t": [1, 3]}"#,
        #"{"a": -0, "b": "\u00e9t\u00e9", "o": [{"x": 1}], "n": 9007199254740993}"#,
        #" { "a" : 3 , "b" : "xx" , "n" : 10e-1 , "o" : { "x" : 2 , "y" : null } } "#,
        #"{"\u0061": 2, "b": "x\"y", "t": [2.0, "y"], "o": {"x": [1, 3]}}"#,
    ]
    static let fields = ["a", "b", "t", "n", "o", "o.x", "o.y", "o.x.z", "missing", "a.b"]
    static let values: [MetadataValue] = [.number(1), .number(2), .number(3), .number(-4), .number(0), .string("x"), .string("y"),
                                          .string("é"), .string("x\"y"), .string(""), .bool(true), .null]

    @Test func lazyScanAgreesWithTheTree() throws {
        var gen = DataGen(seed: 5)
        let trees = try Self.corpus.map { try #require(try JSONValue.parse($0, options: MetadataJSON.options).members) }
        for round in 0..<4000 {
            let node = Self.randomNode(&gen, depth: 0)
            let filter = MetadataFilter(node)
            for (text, tree) in zip(Self.corpus, trees) {
                let lazy = Array(text.utf8).withUnsafeBytes { filter.matches($0) }
                #expect(lazy == Self.holds(node, tree), "round \(round): \(node) on \(text)")
                // The quick loop (top-level paths) and the general scan agree.
                #expect(Array(text.utf8).withUnsafeBytes { filter.plan.scannedMatches($0) } == lazy, "round \(round): \(node) on \(text)")
            }
        }
    }

    static func randomNode(_ g: inout DataGen, depth: Int) -> MetadataFilter.Node {
        func pick<T>(_ a: [T]) -> T { a[Int(g.next() % UInt64(a.count))] }
        let r = g.next() % 10
        if depth < 3 && r < 2 { return .and((0..<Int(1 + g.next() % 3)).map { _ in randomNode(&g, depth: depth + 1) }) }
        if depth < 3 && r < 4 { return .or((0..<Int(1 + g.next() % 3)).map { _ in randomNode(&g, depth: depth + 1) }) }
        if depth < 3 && r < 5 { return .not(randomNode(&g, depth: depth + 1)) }
        let f = pick(fields)
        let v = pick(values)
        let ordered: MetadataValue = pick([.number(1), .number(2.5), .number(-1), .string("x"), .string("xx"), .string("é")])
        let list = (0..<Int(1 + g.next() % 3)).map { _ in pick(values) }
        let ops: [MetadataFilter.Operator] = [.eq(v), .ne(v), .gt(ordered), .gte(ordered), .lt(ordered), .lte(ordered),
                                              .in(list), .nin(list), .exists(g.next() % 2 == 0), .contains(v)]
        return .field(f, pick(ops))
    }

    /// The semantics of `MetadataFilter`, written plainly over the parsed tree.
    static func holds(_ n: MetadataFilter.Node, _ object: [(String, JSONValue)]) -> Bool {
        switch n {
        case .and(let list): return list.allSatisfy { holds($0, object) }
        case .or(let list): return list.contains { holds($0, object) }
        case .not(let c): return !holds(c, object)
        case .field(let path, let op):
            let found = occurrences(object, Array(path.utf8))
            func some(_ test: (JSONValue) -> Bool) -> Bool {
                found.contains { v in
                    if case .array(let items) = v { return items.contains(where: test) }
                    return test(v)
                }
            }
            switch op {
            case .eq(let x): return some { equal($0, x) }
            case .ne(let x): return !some { equal($0, x) }
            case .in(let xs): return some { v in xs.contains { equal(v, $0) } }
            case .nin(let xs): return !some { v in xs.contains { equal(v, $0) } }
            case .gt(let x): return some { order($0, x).map { $0 > 0 } ?? false }
            case .gte(let x): return some { order($0, x).map { $0 >= 0 } ?? false }
            case .lt(let x): return some { order($0, x).map { $0 < 0 } ?? false }
            case .lte(let x): return some { order($0, x).map { $0 <= 0 } ?? false }
            case .exists(let b): return found.isEmpty != b
            case .contains(let x):
                return found.contains { v in
                    guard case .array(let items) = v else { return false }
                    return items.contains { equal($0, x) }
                }
            }
        }
    }

    /// Every value the path reaches: a member named by the whole rest of the path, or the
    /// next dotted segment into an object.
    static func occurrences(_ object: [(String, JSONValue)], _ path: [UInt8]) -> [JSONValue] {
        var out: [JSONValue] = []
        for (name, value) in object {
            let n = Array(name.utf8)
            if n == path { out.append(value) }
            if n.count < path.count, path[n.count] == UInt8(ascii: "."), Array(path[..<n.count]) == n, let inner = value.members {
                out += occurrences(inner, Array(path[(n.count + 1)...]))
            }
        }
        return out
    }

    static func equal(_ v: JSONValue, _ x: MetadataValue) -> Bool {
        switch (v, x) {
        case let (.string(a), .string(b)): return Array(a.utf8) == Array(b.utf8)
        case let (.number(a), .number(b)): return a.double! == b
        case let (.bool(a), .bool(b)): return a == b
        case (.null, .null): return true
        default: return false
        }
    }

    static func order(_ v: JSONValue, _ x: MetadataValue) -> Int? {
        switch (v, x) {
        case let (.string(a), .string(b)):
            let (p, q) = (Array(a.utf8), Array(b.utf8))
            return p == q ? 0 : (p.lexicographicallyPrecedes(q) ? -1 : 1)
        case let (.number(a), .number(b)):
            let d = a.double!
            return d == b ? 0 : (d < b ? -1 : 1)
        default: return nil
        }
    }
}
