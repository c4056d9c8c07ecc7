import EmbedJSON

/// A `MetadataFilter` compiled for the search hot path: the distinct field paths it names, one
/// positive test ("leaf") per condition, and the boolean expression over the leaves as a flat
/// program. Negative conditions (`ne`, `nin`, `exists(false)`) are the NOT of a positive leaf,
/// so a leaf only ever turns from false to true while the metadata is scanned.
///
/// `matches` scans a record's metadata once, reading only the members whose names lead to a
/// named path (the rest are skipped undecoded), and stops as soon as the expression's value
/// no longer depends on the leaves still false (three-valued evaluation after each change).
struct FilterPlan: Sendable {
    /// A filter operand, strings as UTF-8 so they compare against undecoded metadata bytes.
    enum Operand: Sendable {
        case string([UInt8])
        case number(Double)
        case bool(Bool)
        case null
    }

    enum Order: Sendable { case gt, gte, lt, lte }

    /// A positive test on one path.
    enum Leaf: Sendable {
        /// The value, or an array element, equals one of these.
        case equal([Operand])
        /// The value, or an array element, is ordered so against the operand (same type).
        case order(Order, Operand)
        /// The path is present.
        case exists
        /// The value is an array with an element equal to the operand.
        case contains(Operand)
    }

    /// A path being followed while scanning: which path, and how much of it is matched.
    struct Active {
        var path: Int32
        var offset: Int32
    }

    /// The distinct paths, as UTF-8.
    let paths: [[UInt8]]
    /// Whether the path contains a dot (so it may continue into a nested object).
    let dotted: [Bool]
    /// The leaves, grouped by path: those of path `p` are `leafStart[p] ..< leafStart[p + 1]`.
    let leaves: [Leaf]
    let leafStart: [Int]
    /// Every path at offset 0: where the scan of a record starts.
    let topLevel: [Active]
    /// Prefix code: a leaf index (≥ 0), `and`/`or` (then the child count) or `not`.
    let program: [Int32]
    /// The program is an AND of leaves (or one leaf): the record matches once all are true.
    let conjunctive: Bool

    static let opAnd: Int32 = -1, opOr: Int32 = -2, opNot: Int32 = -3

    init(_ root: MetadataFilter.Node) {
        var pathIndex: [[UInt8]: Int] = [:]
        var paths: [[UInt8]] = []
        var leafPath: [Int] = []
        var leaves: [Leaf] = []
        var program: [Int32] = []
        func leaf(_ path: [UInt8], _ l: Leaf) {
            let p: Int
            if let known = pathIndex[path] { p = known } else { p = paths.count; pathIndex[path] = p; paths.append(path) }
            program.append(Int32(leaves.count))
            leaves.append(l)
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
                let path = Array(name.utf8)
                switch op {
                case .eq(let v): leaf(path, .equal([Self.operand(v)]))
                case .ne(let v): program.append(Self.opNot); leaf(path, .equal([Self.operand(v)]))
                case .in(let vs): leaf(path, .equal(vs.map(Self.operand)))
                case .nin(let vs): program.append(Self.opNot); leaf(path, .equal(vs.map(Self.operand)))
                case .gt(let v): leaf(path, .order(.gt, Self.operand(v)))
                case .gte(let v): leaf(path, .order(.gte, Self.operand(v)))
                case .lt(let v): leaf(path, .order(.lt, Self.operand(v)))
                case .lte(let v): leaf(path, .order(.lte, Self.operand(v)))
                case .exists(let present):
                    if !present { program.append(Self.opNot) }
                    leaf(path, .exists)
                case .contains(let v): leaf(path, .contains(Self.operand(v)))
                }
            }
        }
        emit(root)
        // Group the leaves by path (the scan visits a path's leaves together) and renumber.
        let order = leaves.indices.sorted { (leafPath[$0], $0) < (leafPath[$1], $1) }
        var renumber = [Int32](repeating: 0, count: leaves.count)
        for (new, old) in order.enumerated() { renumber[old] = Int32(new) }
        var start = [Int](repeating: 0, count: paths.count + 1)
        for p in leafPath { start[p + 1] += 1 }
        for p in 0..<paths.count { start[p + 1] += start[p] }
        var i = 0
        while i < program.count {
            let op = program[i]
            if op >= 0 { program[i] = renumber[Int(op)]; i += 1 } else { i += op == Self.opNot ? 1 : 2 }
        }
        self.paths = paths
        self.dotted = paths.map { $0.contains(UInt8(ascii: ".")) }
        self.leaves = order.map { leaves[$0] }
        self.leafStart = start
        self.topLevel = paths.indices.map { Active(path: Int32($0), offset: 0) }
        self.program = program
        self.conjunctive = program.count == 1
            || (program.first == Self.opAnd && program.count == 2 + leaves.count && program.dropFirst(2).allSatisfy { $0 >= 0 })
    }

    /// The children of an AND (`and`) or OR node, with nested nodes of the same kind inlined.
    static func flattened(_ n: MetadataFilter.Node, and: Bool) -> [MetadataFilter.Node] {
        switch n {
        case .and(let list) where and: return list.flatMap { flattened($0, and: true) }
        case .or(let list) where !and: return list.flatMap { flattened($0, and: false) }
        default: return [n]
        }
    }

    static func operand(_ v: MetadataValue) -> Operand {
        switch v {
        case .string(let s): return .string(Array(s.utf8))
        case .number(let d): return .number(d)
        case .bool(let b): return .bool(b)
        case .null: return .null
        }
    }

    // MARK: Evaluation

    /// See `MetadataFilter.matches`.
    func matches(_ metadata: UnsafeRawBufferPointer) -> Bool {
        if leaves.isEmpty { return evaluate(nil, final: true) == 1 }
        return withUnsafeTemporaryAllocation(of: Bool.self, capacity: leaves.count) { found in
            found.initialize(repeating: false)
            if metadata.isEmpty { return evaluate(found, final: true) == 1 }
            var scan = Scan(plan: self, found: found, remaining: leaves.count)
            var s = JSONScanner(metadata, options: MetadataJSON.options)
            let finished: Bool
            do {
                s.skipWhitespace()
                finished = try topLevel.withUnsafeBufferPointer { active throws(JSONError) in
                    try scan.object(&s, active, depth: 0)
                }
            } catch {
                return false  // damaged bytes: stored metadata was checked at upsert
            }
            if !finished { return scan.decided }
            s.skipWhitespace()
            return s.isAtEnd && evaluate(found, final: true) == 1
        }
    }

    /// The program's value (0 false, 1 true, 2 unknown): a leaf that is not yet found is false
    /// when `final`, else unknown (it may still be found).
    func evaluate(_ found: UnsafeMutableBufferPointer<Bool>?, final: Bool) -> UInt8 {
        program.withUnsafeBufferPointer { p in
            var pc = 0
            return Self.evaluate(p, &pc, found, final)
        }
    }

    private static func evaluate(_ p: UnsafeBufferPointer<Int32>, _ pc: inout Int, _ found: UnsafeMutableBufferPointer<Bool>?,
                                 _ final: Bool) -> UInt8 {
        let op = p[pc]
        pc += 1
        if op >= 0 { return found![Int(op)] ? 1 : (final ? 0 : 2) }
        if op == opNot {
            let v = evaluate(p, &pc, found, final)
            return v == 2 ? 2 : 1 - v
        }
        let n = Int(p[pc])
        pc += 1
        // and: false wins, else unknown, else true; or: the mirror image.
        let absorbing: UInt8 = op == opAnd ? 0 : 1
        var r: UInt8 = 1 - absorbing
        for _ in 0..<n {
            let v = evaluate(p, &pc, found, final)
            if v == absorbing { r = absorbing } else if v == 2 && r != absorbing { r = 2 }
        }
        return r
    }

    /// The state of one record's scan.
    private struct Scan {
        let plan: FilterPlan
        let found: UnsafeMutableBufferPointer<Bool>
        /// Leaves not yet found (the conjunctive plan is decided true at 0).
        var remaining: Int
        /// The outcome, once the scan stopped early.
        var decided = false

        init(plan: FilterPlan, found: UnsafeMutableBufferPointer<Bool>, remaining: Int) {
            self.plan = plan
            self.found = found
            self.remaining = remaining
        }

        /// Marks leaf `i` found; false when that decides the outcome (then in `decided`).
        @inline(__always)
        mutating func set(_ i: Int) -> Bool {
            if found[i] { return true }
            found[i] = true
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
                    for i in plan.leafStart[whole]..<plan.leafStart[whole + 1] {
                        if case .exists = plan.leaves[i], !set(i) { return false }
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
                    if let v = try MetadataJSON.readScalar(&s, depth: depth + 2), try !apply(whole, v, s, element: true) {
                        return false
                    }
                    s.skipWhitespace()
                    if s.consume(UInt8(ascii: ",")) { continue }
                    guard s.consume(UInt8(ascii: "]")) else { throw s.error("expected ',' or ']'") }
                    return true
                }
            default:
                let v = try MetadataJSON.readScalar(&s, depth: depth + 1)!
                return whole < 0 ? true : try apply(whole, v, s, element: false)
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
            let dotted = plan.dotted[Int(a.path)]
            return plan.paths[Int(a.path)].withUnsafeBytes { path in
                let rest = UnsafeRawBufferPointer(rebasing: path[Int(a.offset)...])
                if let u = unescaped { return u.withUnsafeBytes { Self.match($0, rest, dotted: dotted) } }
                return Self.match(UnsafeRawBufferPointer(rebasing: s.bytes[name.content]), rest, dotted: dotted)
            }
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

        /// Tests the leaves of `path` on one scalar (the value, or an element when `element`).
        @inline(__always)
        private mutating func apply(_ path: Int, _ v: MetadataJSON.Scanned, _ s: JSONScanner, element: Bool) throws(JSONError) -> Bool {
            for i in plan.leafStart[path]..<plan.leafStart[path + 1] where !found[i] {
                let holds: Bool
                switch plan.leaves[i] {
                case .equal(let operands): holds = operands.contains { v.equals($0, s) }
                case .order(let o, let operand):
                    guard let c = v.compare(operand, s) else { continue }
                    switch o {
                    case .gt: holds = c > 0
                    case .gte: holds = c >= 0
                    case .lt: holds = c < 0
                    case .lte: holds = c <= 0
                    }
                case .exists: continue
                case .contains(let operand): holds = element && v.equals(operand, s)
                }
                if holds && !set(i) { return false }
            }
            return true
        }
    }
}
