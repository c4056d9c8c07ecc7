import EmbedJSON

/// A `MetadataFilter` compiled for the search hot path: the distinct field paths it names, one
/// positive test ("leaf") per condition, and the boolean expression over the leaves as a flat
/// program. Negative conditions (`ne`, `nin`, `exists(false)`) are the NOT of a positive leaf,
/// so a leaf only ever turns from false to true while the metadata is scanned.
///
/// `matches` scans a record's metadata once, reading only the members whose names lead to a
/// named path (the rest are skipped undecoded), and stops as soon as the expression's value
/// no longer depends on the leaves still false (three-valued evaluation after each change).
///
/// Everything lives in flat buffers of plain values (paths and string operands as UTF-8 bytes,
/// leaves and operands as small structs), so a test does no reference counting: it runs once
/// per node the walk considers.
///
/// Invariant behind `@unchecked Sendable`: the buffers are written in `init` only, then read
/// (by any number of threads) until `deinit` frees them.
final class FilterPlan: @unchecked Sendable {
    enum Kind: UInt8 { case equal, gt, gte, lt, lte, exists, contains }

    /// A positive test on one path.
    struct Leaf {
        var kind: Kind
        /// `equal`: the value, or an array element, equals one of the operands; `gt`…`lte`: is
        /// so ordered against the one operand (same type); `exists`: the path is present;
        /// `contains`: the value is an array with an element equal to the one operand.
        var operands: Range<Int32>
    }

    /// A scalar operand (strings as a range of `strings`).
    struct Operand {
        enum Kind: UInt8 { case string, number, bool, null }
        var type: Kind
        var number: Double      // the number, or 1/0 for a boolean
        var bytes: Range<Int32>  // a string's UTF-8 in `strings`
    }

    /// A path being followed while scanning: which path, and how many of its bytes are matched.
    struct Active {
        var path: Int32
        var offset: Int32
    }

    /// The compiled filter: plain pointers into buffers this plan owns (a struct, so that a
    /// scan holds them without reference counting).
    struct Tables {
        let pathCount: Int
        /// Path `p` is `pathBytes[pathStart[p] ..< pathStart[p + 1]]`.
        let pathStart: UnsafeMutablePointer<Int32>
        let pathBytes: UnsafeMutablePointer<UInt8>
        /// Whether path `p` contains a dot (so it may continue into a nested object).
        let dotted: UnsafeMutablePointer<Bool>
        /// The leaves, grouped by path: those of path `p` are `leafStart[p] ..< leafStart[p + 1]`.
        let leafCount: Int
        let leaves: UnsafeMutablePointer<Leaf>
        let leafStart: UnsafeMutablePointer<Int32>
        let operands: UnsafeMutablePointer<Operand>
        let strings: UnsafeMutablePointer<UInt8>
        /// Every path at offset 0: where the scan of a record starts.
        let topLevel: UnsafeMutablePointer<Active>
        /// Prefix code: a leaf index (≥ 0), `and`/`or` (then the child count) or `not`.
        let program: UnsafeMutablePointer<Int32>
        let programCount: Int
        /// The program is an AND of leaves (or one leaf): the record matches once all are found.
        let conjunctive: Bool
        /// No path has a dot: only top-level members are read (`quickMatches` applies).
        let topLevelOnly: Bool

        /// The program's value (0 false, 1 true, 2 unknown): a leaf not yet found is false when
        /// `final`, else unknown (it may still be found).
        func evaluate(_ found: LeafSet, final: Bool) -> UInt8 {
            var pc = 0
            return evaluate(&pc, found, final)
        }

        private func evaluate(_ pc: inout Int, _ found: LeafSet, _ final: Bool) -> UInt8 {
            let op = program[pc]
            pc += 1
            if op >= 0 { return found.contains(Int(op)) ? 1 : (final ? 0 : 2) }
            if op == FilterPlan.opNot {
                let v = evaluate(&pc, found, final)
                return v == 2 ? 2 : 1 - v
            }
            let n = Int(program[pc])
            pc += 1
            // and: false wins, else unknown, else true; or: the mirror image.
            let absorbing: UInt8 = op == FilterPlan.opAnd ? 0 : 1
            var r: UInt8 = 1 - absorbing
            for _ in 0..<n {
                let v = evaluate(&pc, found, final)
                if v == absorbing { r = absorbing } else if v == 2 && r != absorbing { r = 2 }
            }
            return r
        }
    }

    let tables: Tables
    var leafCount: Int { tables.leafCount }

    static let opAnd: Int32 = -1, opOr: Int32 = -2, opNot: Int32 = -3

    init(_ root: MetadataFilter.Node) {
        var pathIndex: [[UInt8]: Int] = [:]
        var paths: [[UInt8]] = []
        var leafPath: [Int] = []
        var leaves: [Leaf] = []
        var operands: [Operand] = []
        var strings: [UInt8] = []
        var program: [Int32] = []
        func operand(_ v: MetadataValue) -> Operand {
            switch v {
            case .string(let s):
                let start = Int32(strings.count)
                strings += s.utf8
                return Operand(type: .string, number: 0, bytes: start..<Int32(strings.count))
            case .number(let d): return Operand(type: .number, number: d, bytes: 0..<0)
            case .bool(let b): return Operand(type: .bool, number: b ? 1 : 0, bytes: 0..<0)
            case .null: return Operand(type: .null, number: 0, bytes: 0..<0)
            }
        }
        func leaf(_ name: String, _ kind: Kind, _ values: [MetadataValue]) {
            let path = Array(name.utf8)
            let p: Int
            if let known = pathIndex[path] { p = known } else { p = paths.count; pathIndex[path] = p; paths.append(path) }
            program.append(Int32(leaves.count))
            let first = Int32(operands.count)
            operands += values.map(operand)
            leaves.append(Leaf(kind: kind, operands: first..<Int32(operands.count)))
            leafPath.append(p)
        }
        func emit(_ n: MetadataFilter.Node) {
            switch n {
            case .and, .or:
                // Nested ANDs (ORs) flattened and one-child lists unwrapped: a filter written
                // {"a": 1, "b": {"$gt": 2, "$lt": 5}} is one AND of three leaves (the fast case).
                let isAnd: Bool
                if case .and = n { isAnd = true } else { isAnd = false }
                let list = Self.flattened(n, and: isAnd)
                if list.count == 1 { return emit(list[0]) }
                program.append(isAnd ? Self.opAnd : Self.opOr)
                program.append(Int32(list.count))
                for c in list { emit(c) }
            case .not(let c):
                program.append(Self.opNot)
                emit(c)
            case .field(let name, let op):
                switch op {
                case .eq(let v): leaf(name, .equal, [v])
                case .ne(let v): program.append(Self.opNot); leaf(name, .equal, [v])
                case .in(let vs): leaf(name, .equal, vs)
                case .nin(let vs): program.append(Self.opNot); leaf(name, .equal, vs)
                case .gt(let v): leaf(name, .gt, [v])
                case .gte(let v): leaf(name, .gte, [v])
                case .lt(let v): leaf(name, .lt, [v])
                case .lte(let v): leaf(name, .lte, [v])
                case .exists(let present):
                    if !present { program.append(Self.opNot) }
                    leaf(name, .exists, [])
                case .contains(let v): leaf(name, .contains, [v])
                }
            }
        }
        emit(root)
        // Group the leaves by path (the scan visits a path's leaves together) and renumber.
        let order = leaves.indices.sorted { (leafPath[$0], $0) < (leafPath[$1], $1) }
        var renumber = [Int32](repeating: 0, count: leaves.count)
        for (new, old) in order.enumerated() { renumber[old] = Int32(new) }
        var start = [Int32](repeating: 0, count: paths.count + 1)
        for p in leafPath { start[p + 1] += 1 }
        for p in 0..<paths.count { start[p + 1] += start[p] }
        var i = 0
        while i < program.count {
            let op = program[i]
            if op >= 0 { program[i] = renumber[Int(op)]; i += 1 } else { i += op == Self.opNot ? 1 : 2 }
        }
        var pathStart: [Int32] = [0]
        for p in paths { pathStart.append(pathStart.last! + Int32(p.count)) }
        tables = Tables(
            pathCount: paths.count, pathStart: Self.copy(pathStart), pathBytes: Self.copy(paths.flatMap { $0 }),
            dotted: Self.copy(paths.map { $0.contains(UInt8(ascii: ".")) }), leafCount: leaves.count,
            leaves: Self.copy(order.map { leaves[$0] }), leafStart: Self.copy(start), operands: Self.copy(operands),
            strings: Self.copy(strings), topLevel: Self.copy(paths.indices.map { Active(path: Int32($0), offset: 0) }),
            program: Self.copy(program), programCount: program.count,
            conjunctive: program.count == 1
                || (program.first == Self.opAnd && program.count == 2 + leaves.count && program.dropFirst(2).allSatisfy { $0 >= 0 }),
            topLevelOnly: !paths.contains { $0.contains(UInt8(ascii: ".")) })
    }

    deinit {
        let t = tables
        t.pathStart.deallocate(); t.pathBytes.deallocate(); t.dotted.deallocate(); t.leaves.deallocate()
        t.leafStart.deallocate(); t.operands.deallocate(); t.strings.deallocate(); t.topLevel.deallocate()
        t.program.deallocate()
    }

    private static func copy<T>(_ a: [T]) -> UnsafeMutablePointer<T> {
        let p = UnsafeMutablePointer<T>.allocate(capacity: max(a.count, 1))
        _ = UnsafeMutableBufferPointer(start: p, count: a.count).initialize(from: a)
        return p
    }

    /// The children of an AND (`and`) or OR node, with nested nodes of the same kind inlined.
    static func flattened(_ n: MetadataFilter.Node, and: Bool) -> [MetadataFilter.Node] {
        switch n {
        case .and(let list) where and: return list.flatMap { flattened($0, and: true) }
        case .or(let list) where !and: return list.flatMap { flattened($0, and: false) }
        default: return [n]
        }
    }

    // MARK: Evaluation

    /// See `MetadataFilter.matches`.
    func matches(_ metadata: UnsafeRawBufferPointer) -> Bool { tables.matches(metadata) }

    /// The general evaluation (any path, any metadata), on `JSONScanner`.
    func scannedMatches(_ metadata: UnsafeRawBufferPointer) -> Bool { tables.scannedMatches(metadata) }

    /// `quickMatches`' cursor (a struct, so that the loop's state stays in registers).
    fileprivate struct Cursor {
        let p: UnsafePointer<UInt8>
        let n: Int
        var i = 0

        init(p: UnsafePointer<UInt8>, n: Int) {
            self.p = p
            self.n = n
        }

        /// The byte at the cursor, or 0 at the end.
        @inline(__always) var next: UInt8 { i < n ? p[i] : 0 }

        @inline(__always) mutating func space() {
            while i < n, p[i] == 0x20 || p[i] == 0x0A || p[i] == 0x0D || p[i] == 0x09 { i += 1 }
        }

        /// A string at p[i] == '"' (the cursor moves past it); nil when it holds an escape.
        @inline(__always) mutating func string() -> JSONScanner.StringToken? {
            i += 1
            let start = i
            while i < n, p[i] != UInt8(ascii: "\"") {
                if p[i] == UInt8(ascii: "\\") { return nil }
                i += 1
            }
            guard i < n else { return nil }
            i += 1
            return JSONScanner.StringToken(content: start..<(i - 1), hasEscapes: false)
        }

        /// A scalar at the cursor; nil for anything else.
        @inline(__always) mutating func scalar(_ m: UnsafeRawBufferPointer) -> MetadataJSON.Scanned? {
            switch next {
            case UInt8(ascii: "\""): return string().map { .string($0) }
            case UInt8(ascii: "t"): guard i + 4 <= n else { return nil }; i += 4; return .bool(true)
            case UInt8(ascii: "f"): guard i + 5 <= n else { return nil }; i += 5; return .bool(false)
            case UInt8(ascii: "n"): guard i + 4 <= n else { return nil }; i += 4; return .null
            case UInt8(ascii: "-"), 0x30...0x39:
                let start = i
                var v: Int64 = 0
                var integral = true
                if p[i] == UInt8(ascii: "-") { i += 1 }
                while i < n {
                    let d = p[i] &- 0x30
                    if d <= 9 { v = v &* 10 &+ Int64(d); i += 1; continue }
                    if p[i] == UInt8(ascii: ".") || p[i] == UInt8(ascii: "e") || p[i] == UInt8(ascii: "E")
                        || p[i] == UInt8(ascii: "+") || p[i] == UInt8(ascii: "-") { integral = false; i += 1; continue }
                    break
                }
                // Up to 16 characters: at most 16 digits, exact in an Int64 and rounded to a
                // Double as the standard parser rounds the same text.
                if integral && i - start <= 16 { return .number(p[start] == UInt8(ascii: "-") ? -Double(v) : Double(v)) }
                return Double(String(decoding: UnsafeRawBufferPointer(rebasing: m[start..<i]), as: UTF8.self)).map { .number($0) }
            default: return nil
            }
        }

        /// Skips a value the filter does not name (strings with escapes, containers at any depth);
        /// false at a premature end.
        @inline(__always) mutating func skip() -> Bool {
            var depth = 0
            while i < n {
                switch p[i] {
                case UInt8(ascii: "\""):
                    i += 1
                    while i < n, p[i] != UInt8(ascii: "\"") { i += p[i] == UInt8(ascii: "\\") ? 2 : 1 }
                    i += 1
                case UInt8(ascii: "["), UInt8(ascii: "{"): depth += 1; i += 1
                case UInt8(ascii: "]"), UInt8(ascii: "}"):
                    if depth == 0 { return true }
                    depth -= 1; i += 1
                case UInt8(ascii: ","):
                    if depth == 0 { return true }
                    i += 1
                default: i += 1
                }
            }
            return false
        }
    }

    /// The leaves found so far: a bit each, in a word for up to 64 leaves (no allocation), else
    /// in words allocated for the one record.
    struct LeafSet {
        var low: UInt64 = 0
        var high: UnsafeMutablePointer<UInt64>?

        init(count: Int) {
            if count > 64 {
                let words = (count - 64 + 63) / 64
                high = .allocate(capacity: words)
                high!.initialize(repeating: 0, count: words)
            }
        }

        @inline(__always) func contains(_ i: Int) -> Bool {
            i < 64 ? low & (1 << UInt64(i)) != 0 : high![(i - 64) >> 6] & (1 << UInt64((i - 64) & 63)) != 0
        }

        @inline(__always) mutating func insert(_ i: Int) {
            if i < 64 { low |= 1 << UInt64(i) } else { high![(i - 64) >> 6] |= 1 << UInt64((i - 64) & 63) }
        }

        func release() { high?.deallocate() }
    }

    /// The state of one record's scan (lives within `matches`, so the plan's buffers outlive it).
    fileprivate struct Scan {
        let plan: Tables
        var found: LeafSet
        /// Leaves not yet found (the conjunctive plan is decided true at 0).
        var remaining: Int
        /// The outcome, once the scan stopped early.
        var decided = false

        init(plan: Tables) {
            self.plan = plan
            found = LeafSet(count: plan.leafCount)
            remaining = plan.leafCount
        }

        /// Marks leaf `i` found; false when that decides the outcome (then in `decided`).
        @inline(__always)
        mutating func set(_ i: Int) -> Bool {
            if found.contains(i) { return true }
            found.insert(i)
            remaining -= 1
            if plan.conjunctive {
                if remaining > 0 { return true }
                decided = true
                return false
            }
            let v = plan.evaluate(found, final: false)
            if v == 2 { return true }
            decided = v == 1
            return false
        }

        /// Scans the object at the cursor for the `active` paths; false once the outcome is decided.
        mutating func object(_ s: inout JSONScanner, _ active: UnsafeBufferPointer<Active>, depth: Int) throws(JSONError) -> Bool {
            guard s.consume(UInt8(ascii: "{")) else {
                // Not an object: only possible for damaged top-level bytes (nested values are checked).
                throw s.error("expected an object")
            }
            s.skipWhitespace()
            if s.consume(UInt8(ascii: "}")) { return true }
            while true {
                s.skipWhitespace()
                let name = try s.scanMemberName()
                if try !member(&s, name, active, depth: depth) { return false }
                s.skipWhitespace()
                if s.consume(UInt8(ascii: ",")) { continue }
                guard s.consume(UInt8(ascii: "}")) else { throw s.error("expected ',' or '}'") }
                return true
            }
        }

        /// One member, the cursor at its value (which this reads or skips).
        private mutating func member(_ s: inout JSONScanner, _ name: JSONScanner.StringToken, _ active: UnsafeBufferPointer<Active>,
                                     depth: Int) throws(JSONError) -> Bool {
            var whole = -1        // the one active path this name completes (paths are distinct, so at most one)
            var deeper = 0        // active paths this name is a dotted prefix of
            let unescaped: [UInt8]? = name.hasEscapes ? Array(s.decode(name).utf8) : nil
            for a in active {
                switch match(s, name, unescaped, a) {
                case 1:
                    whole = Int(a.path)
                    for i in Int(plan.leafStart[whole])..<Int(plan.leafStart[whole + 1]) where plan.leaves[i].kind == .exists {
                        if !set(i) { return false }
                    }
                case 2: deeper += 1
                default: break
                }
            }
            if whole < 0 && deeper == 0 {
                try s.skipValue(depth: depth + 1)
                return true
            }
            switch s.peek() {
            case UInt8(ascii: "{"):
                guard deeper > 0 else { try s.skipValue(depth: depth + 1); return true }
                return try nested(&s, name, unescaped, active, count: deeper, depth: depth)
            case UInt8(ascii: "["):
                guard whole >= 0 else { try s.skipValue(depth: depth + 1); return true }
                s.offset += 1
                s.skipWhitespace()
                if s.consume(UInt8(ascii: "]")) { return true }
                while true {
                    s.skipWhitespace()
                    if let v = try MetadataJSON.readScalar(&s, depth: depth + 2), !apply(whole, v, s, element: true) {
                        return false
                    }
                    s.skipWhitespace()
                    if s.consume(UInt8(ascii: ",")) { continue }
                    guard s.consume(UInt8(ascii: "]")) else { throw s.error("expected ',' or ']'") }
                    return true
                }
            default:
                let v = try MetadataJSON.readScalar(&s, depth: depth + 1)!
                return whole < 0 ? true : apply(whole, v, s, element: false)
            }
        }

        /// Follows the paths that continue below this member into its object value.
        private mutating func nested(_ s: inout JSONScanner, _ name: JSONScanner.StringToken, _ unescaped: [UInt8]?,
                                     _ active: UnsafeBufferPointer<Active>, count: Int, depth: Int) throws(JSONError) -> Bool {
            let length = unescaped?.count ?? name.content.count
            return try withUnsafeTemporaryAllocation(of: Active.self, capacity: count) { (next) throws(JSONError) -> Bool in
                var n = 0
                for a in active where match(s, name, unescaped, a) == 2 {
                    next.initializeElement(at: n, to: Active(path: a.path, offset: a.offset + Int32(length) + 1))
                    n += 1
                }
                return try object(&s, UnsafeBufferPointer(next), depth: depth + 1)
            }
        }

        /// 1 when the member name is the rest of the path, 2 when it is the next dotted segment, else 0.
        @inline(__always)
        private func match(_ s: JSONScanner, _ name: JSONScanner.StringToken, _ unescaped: [UInt8]?, _ a: Active) -> Int {
            let p = Int(a.path)
            let start = Int(plan.pathStart[p]) + Int(a.offset)
            let rest = UnsafeRawBufferPointer(start: plan.pathBytes + start, count: Int(plan.pathStart[p + 1]) - start)
            if let u = unescaped { return u.withUnsafeBytes { Self.match($0, rest, dotted: plan.dotted[p]) } }
            return Self.match(UnsafeRawBufferPointer(rebasing: s.bytes[name.content]), rest, dotted: plan.dotted[p])
        }

        @inline(__always)
        private static func match(_ name: UnsafeRawBufferPointer, _ rest: UnsafeRawBufferPointer, dotted: Bool) -> Int {
            let n = name.count
            if n == rest.count { return MetadataJSON.bytesEqual(name, rest) ? 1 : 0 }
            if dotted && n < rest.count && rest[n] == UInt8(ascii: ".") && MetadataJSON.bytesEqual(name, UnsafeRawBufferPointer(rebasing: rest[..<n])) {
                return 2
            }
            return 0
        }

        /// Tests the leaves of `path` on one scalar (the value, or an element when `element`);
        /// false once that decides the outcome.
        @inline(__always)
        mutating func apply(_ path: Int, _ v: MetadataJSON.Scanned, _ s: JSONScanner, element: Bool) -> Bool {
            for i in Int(plan.leafStart[path])..<Int(plan.leafStart[path + 1]) where !found.contains(i) {
                let leaf = plan.leaves[i]
                let holds: Bool
                switch leaf.kind {
                case .equal:
                    holds = leaf.operands.contains { equals(v, plan.operands[Int($0)], s) }
                case .exists:
                    continue
                case .contains:
                    holds = element && equals(v, plan.operands[Int(leaf.operands.lowerBound)], s)
                case .gt, .gte, .lt, .lte:
                    guard let c = compare(v, plan.operands[Int(leaf.operands.lowerBound)], s) else { continue }
                    switch leaf.kind {
                    case .gt: holds = c > 0
                    case .gte: holds = c >= 0
                    case .lt: holds = c < 0
                    default: holds = c <= 0
                    }
                }
                if holds && !set(i) { return false }
            }
            return true
        }

        /// Filter equality: numbers by value (1 equals 1.0), strings by their UTF-8 bytes — as
        /// keys are — not by Swift's canonical equivalence ("é" and "e" + U+0301 differ).
        @inline(__always)
        private func equals(_ v: MetadataJSON.Scanned, _ o: Operand, _ s: JSONScanner) -> Bool {
            switch v {
            case .string(let t): return o.type == .string && MetadataJSON.compare(t, s, string(o)) == 0
            case .number(let d): return o.type == .number && d == o.number
            case .bool(let b): return o.type == .bool && (b ? 1 : 0) == o.number
            case .null: return o.type == .null
            }
        }

        /// Filter order against a number or string of the same type (strings by UTF-8 bytes,
        /// which is code point order): <0, 0 or >0, or nil when the two do not compare.
        @inline(__always)
        private func compare(_ v: MetadataJSON.Scanned, _ o: Operand, _ s: JSONScanner) -> Int? {
            switch v {
            case .string(let t): return o.type == .string ? MetadataJSON.compare(t, s, string(o)) : nil
            case .number(let d): return o.type == .number ? (d < o.number ? -1 : (d > o.number ? 1 : (d == o.number ? 0 : nil))) : nil
            default: return nil
            }
        }

        @inline(__always)
        private func string(_ o: Operand) -> UnsafeRawBufferPointer {
            UnsafeRawBufferPointer(start: plan.strings + Int(o.bytes.lowerBound), count: o.bytes.count)
        }
    }
}

extension FilterPlan.Tables {
    /// See `MetadataFilter.matches`.
    func matches(_ metadata: UnsafeRawBufferPointer) -> Bool {
        if topLevelOnly && leafCount <= 64 && !metadata.isEmpty, let r = quickMatches(metadata) { return r }
        return scannedMatches(metadata)
    }

    /// The general evaluation (any path, any metadata), on `JSONScanner`.
    func scannedMatches(_ metadata: UnsafeRawBufferPointer) -> Bool {
        let t = self
        var scan = FilterPlan.Scan(plan: t)
        defer { scan.found.release() }
        if t.leafCount == 0 || metadata.isEmpty { return t.evaluate(scan.found, final: true) == 1 }
        var s = JSONScanner(metadata, options: MetadataJSON.options)
        do {
            s.skipWhitespace()
            if try !scan.object(&s, UnsafeBufferPointer(start: t.topLevel, count: t.pathCount), depth: 0) { return scan.decided }
        } catch {
            return false  // damaged bytes: stored metadata was checked at upsert
        }
        s.skipWhitespace()
        guard s.isAtEnd else { return false }
        return t.conjunctive ? scan.remaining == 0 : t.evaluate(scan.found, final: true) == 1
    }

    /// The common case in a tight loop over the bytes: filters on top-level members, metadata
    /// whose member names have no escapes and whose named members hold scalars or arrays of
    /// scalars. Anything else (an escape in a name or in a string it compares, an object or a
    /// nested array where a named member is, bytes that are not what the loop expects) gives
    /// nil, and `scannedMatches` decides. Stored metadata was validated at upsert, so values
    /// the filter does not name are only skipped, not checked; every read is bounds-checked.
    func quickMatches(_ m: UnsafeRawBufferPointer) -> Bool? {
        var c = FilterPlan.Cursor(p: m.baseAddress.unsafelyUnwrapped.assumingMemoryBound(to: UInt8.self), n: m.count)
        let s = JSONScanner(m, options: MetadataJSON.options)  // resolves string tokens for `apply`
        let t = self
        var scan = FilterPlan.Scan(plan: t)
        c.space()
        guard c.next == UInt8(ascii: "{") else { return nil }
        c.i += 1
        c.space()
        if c.next == UInt8(ascii: "}") {
            c.i += 1
        } else {
            while true {
                guard c.next == UInt8(ascii: "\""), let name = c.string() else { return nil }
                c.space()
                guard c.next == UInt8(ascii: ":") else { return nil }
                c.i += 1
                c.space()
                var path = -1
                for k in 0..<t.pathCount {
                    let start = Int(t.pathStart[k])
                    if Int(t.pathStart[k + 1]) - start == name.content.count
                        && MetadataJSON.bytesEqual(UnsafeRawBufferPointer(start: t.pathBytes + start, count: name.content.count),
                                                   UnsafeRawBufferPointer(rebasing: m[name.content])) {
                        path = k
                        break
                    }
                }
                if path < 0 {
                    guard c.skip() else { return nil }
                } else {
                    for l in Int(t.leafStart[path])..<Int(t.leafStart[path + 1]) where t.leaves[l].kind == .exists {
                        if !scan.set(l) { return scan.decided }
                    }
                    if c.next == UInt8(ascii: "[") {
                        c.i += 1
                        c.space()
                        if c.next == UInt8(ascii: "]") {
                            c.i += 1
                        } else {
                            while true {
                                guard let v = c.scalar(m) else { return nil }
                                if !scan.apply(path, v, s, element: true) { return scan.decided }
                                c.space()
                                if c.next == UInt8(ascii: ",") { c.i += 1; c.space(); continue }
                                guard c.next == UInt8(ascii: "]") else { return nil }
                                c.i += 1
                                break
                            }
                        }
                    } else {
                        guard let v = c.scalar(m) else { return nil }
                        if !scan.apply(path, v, s, element: false) { return scan.decided }
                    }
                }
                c.space()
                if c.next == UInt8(ascii: ",") { c.i += 1; c.space(); continue }
                guard c.next == UInt8(ascii: "}") else { return nil }
                c.i += 1
                break
            }
        }
        c.space()
        guard c.i == c.n else { return nil }
        return t.conjunctive ? scan.remaining == 0 : t.evaluate(scan.found, final: true) == 1
    }
}
