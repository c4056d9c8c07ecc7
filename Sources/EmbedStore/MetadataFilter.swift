/// A metadata filter: a boolean expression over the fields of a record's JSON metadata, in the
/// Mongo / Chroma style (`MetadataFilter(json:)` reads that spelling; docs/operations.md,
/// "Filters", is the user's reference).
///
/// Semantics, decided once here and relied on by the lazy evaluator (`FilterPlan`):
/// - A field is a member name, or a dotted path into nested objects (`"a.b"`: member `b` of the
///   object in member `a`). At each level a member whose whole name equals the rest of the path
///   is tried as well, so a key that itself contains a dot stays reachable.
/// - A comparison (`eq`, `in`, `gt`…`lte`) holds when the field is a scalar that satisfies it,
///   or an array one of whose scalar elements does (Qdrant and Mongo match arrays this way).
///   Objects satisfy none; values of different types never compare (no error): `"5"` is neither
///   equal to nor greater than `5`. Numbers compare by value (1 == 1.0), strings by the bytes
///   of their UTF-8 (no Unicode normalisation), in order for `gt`…`lte` too.
/// - `ne` and `nin` are the negations of `eq` and `in`: they hold when the field is missing,
///   of another type, or an array with no such element (as in Mongo). `exists(false)` holds
///   when the field is missing; a field whose value is `null` exists.
/// - `contains(v)` holds when the field is an array with an element equal to `v` (a scalar
///   field equal to `v` does not count: use `eq` for "scalar or element").
/// - A member name that occurs twice in one object: a comparison holds if it holds for either.
public struct MetadataFilter: Sendable, Equatable {
    /// One node of the expression.
    public indirect enum Node: Sendable, Equatable {
        /// Every child holds (an empty list always holds).
        case and([Node])
        /// Some child holds (an empty list never holds).
        case or([Node])
        /// The child does not hold.
        case not(Node)
        /// A condition on one field (a member name or a dotted path).
        case field(String, Operator)
    }

    /// A condition on one field's value.
    public enum Operator: Sendable, Equatable {
        /// Equal to the value (a scalar field, or an element of an array field).
        case eq(MetadataValue)
        /// Not `eq` (also when the field is missing).
        case ne(MetadataValue)
        /// Greater than a number or string (same type only).
        case gt(MetadataValue)
        /// Greater than or equal.
        case gte(MetadataValue)
        /// Less than.
        case lt(MetadataValue)
        /// Less than or equal.
        case lte(MetadataValue)
        /// `eq` one of the values.
        case `in`([MetadataValue])
        /// Not `in` (also when the field is missing).
        case nin([MetadataValue])
        /// The field is present (any value, `null` included), or absent for `false`.
        case exists(Bool)
        /// The field is an array with an element equal to the value.
        case contains(MetadataValue)
    }

    /// The expression.
    public let root: Node
    /// `root` compiled for the lazy scan.
    let plan: FilterPlan

    /// A filter on `root`; the default matches every record.
    public init(_ root: Node = .and([])) {
        self.root = root
        self.plan = FilterPlan(root)
    }

    public static func == (a: MetadataFilter, b: MetadataFilter) -> Bool { a.root == b.root }

    /// Whether the filter holds for every record (an empty AND), so a search can skip it.
    public var isEmpty: Bool { root == .and([]) }

    /// The filter and `node` (both must hold).
    public func and(_ node: Node) -> MetadataFilter {
        if case .and(let nodes) = root { return MetadataFilter(.and(nodes + [node])) }
        return MetadataFilter(.and([root, node]))
    }

    /// Adds `field == value`.
    public func equals(_ field: String, _ value: MetadataValue) -> MetadataFilter { and(.field(field, .eq(value))) }

    /// Adds `field in values`.
    public func `in`(_ field: String, _ values: [MetadataValue]) -> MetadataFilter { and(.field(field, .in(values))) }

    /// Refuses filters built in code that the JSON spelling could not express.
    func validate() throws(StoreError) {
        func check(_ n: Node) throws(StoreError) {
            switch n {
            case .and(let list), .or(let list):
                for c in list { try check(c) }
            case .not(let c):
                try check(c)
            case .field(let f, let op):
                if f.isEmpty { throw .invalidArgument("filter field name is empty") }
                switch op {
                case .in(let values), .nin(let values):
                    if values.isEmpty { throw .invalidArgument("filter on '\(f)' has no values") }
                case .gt(let v), .gte(let v), .lt(let v), .lte(let v):
                    switch v {
                    case .number, .string: break
                    default: throw .invalidArgument("filter on '\(f)': an order comparison takes a number or a string, not \(v)")
                    }
                default: break
                }
            }
        }
        try check(root)
    }

    /// Whether `metadata` (UTF-8 JSON object bytes, possibly empty for "none") matches. Empty
    /// metadata is an object without members (so `ne` and `exists(false)` hold for it); bytes
    /// that are not a well-formed object never match.
    ///
    /// On the filtered-search hot path: scans the object lazily, decoding only the members the
    /// filter names (strings are compared undecoded), and stops as soon as the outcome is known.
    func matches(_ metadata: UnsafeRawBufferPointer) -> Bool { plan.matches(metadata) }
}
