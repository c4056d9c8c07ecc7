import EmbedCLI

/// `search --filter`: a JSON object whose members must all hold. A member is
/// `"field": value` (equality), `"field": {"in": [v1, v2]}` (any of), `"field": [v1, v2]`
/// (any of), or `"field": {"eq": v}`; values are JSON scalars. `$in`/`$eq` are accepted too.
///
/// The filter is checked here, so a typo is a usage error naming the field, and sent in the
/// daemon's spelling (`$in`, `$eq`), each value exactly as written.
enum SearchFilter {
    static func translate(_ text: String) throws(CLIError) -> String {
        let bytes = Array(text.utf8)
        let node = try JSONNode.parse(text, what: "--filter")
        guard case .object(let members) = node.kind else { throw .usage("--filter must be a JSON object, got \(node.typeName)") }
        func raw(_ n: JSONNode) -> String { String(decoding: bytes[n.range], as: UTF8.self) }
        func scalars(_ list: [JSONNode], _ field: String) throws(CLIError) -> String {
            if list.isEmpty { throw .usage("--filter: \"\(field)\" has an empty list of values") }
            for v in list where !isScalar(v) {
                throw .usage("--filter: the values of \"\(field)\" must be strings, numbers, booleans or null, got \(v.typeName)")
            }
            return "[" + list.map(raw).joined(separator: ", ") + "]"
        }
        var parts: [String] = []
        for (field, value) in members {
            if field.isEmpty { throw .usage("--filter: a field name is empty") }
            let condition: String
            switch value.kind {
            case .array(let list):
                condition = "{\"$in\": " + (try scalars(list, field)) + "}"
            case .object(let ops):
                guard ops.count == 1 else {
                    throw .usage("--filter: \"\(field)\" must be a value, a list, {\"in\": [...]} or {\"eq\": value}")
                }
                let (op, operand) = ops[0]
                switch op {
                case "in", "$in":
                    guard case .array(let list) = operand.kind else { throw .usage("--filter: \"\(field)\": \"\(op)\" needs a list, got \(operand.typeName)") }
                    condition = "{\"$in\": " + (try scalars(list, field)) + "}"
                case "eq", "$eq":
                    guard isScalar(operand) else { throw .usage("--filter: \"\(field)\": \"\(op)\" needs a scalar, got \(operand.typeName)") }
                    condition = "{\"$eq\": " + raw(operand) + "}"
                default:
                    throw .usage("--filter: \"\(field)\": unknown operator \"\(op)\" (expected \"in\" or \"eq\")")
                }
            default:
                condition = raw(value)
            }
            parts.append(JSON.string(field) + ": " + condition)
        }
        return "{" + parts.joined(separator: ", ") + "}"
    }

    static func isScalar(_ n: JSONNode) -> Bool {
        switch n.kind {
        case .array, .object: return false
        default: return true
        }
    }
}
