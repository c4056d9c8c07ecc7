import CYAML

/// Parses YAML text with libyaml's event API into a `YAMLNode` tree.
///
/// Only the subset a configuration file needs: one document of mappings, sequences and
/// scalars. Anchors/aliases and multiple documents are refused with a positioned error,
/// because silently mis-reading them would be worse.
public enum YAMLParser {
    /// Deepest nesting of mappings and sequences accepted. A configuration needs four or five
    /// levels; tens of thousands (80 KB of "[") made the recursive release of the node tree
    /// overflow the stack — a crash of the running daemon on SIGHUP.
    public static let maxDepth = 64

    /// Parses `bytes`; `fileName` is used in errors. An empty document yields an empty mapping.
    public static func parse(_ bytes: [UInt8], fileName: String) throws(ConfigError) -> YAMLNode {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else {
            throw ConfigError(file: fileName, line: 0, column: 0, message: "cannot initialise the YAML parser (out of memory)")
        }
        defer { yaml_parser_delete(&parser) }
        // libyaml keeps a pointer to the input, so the copy must outlive every parse call.
        let input = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(bytes.count, 1))
        defer { input.deallocate() }
        _ = input.initialize(from: bytes)
        yaml_parser_set_input_string(&parser, input.baseAddress, bytes.count)

        var stack: [Builder] = []
        var root: YAMLNode?
        var documents = 0

        func fail(_ mark: yaml_mark_t, _ message: String) -> ConfigError {
            ConfigError(file: fileName, line: Int(mark.line) + 1, column: Int(mark.column) + 1, message: message)
        }

        while true {
            var event = yaml_event_t()
            guard yaml_parser_parse(&parser, &event) == 1 else {
                let problem = parser.problem.map { String(cString: $0) } ?? "invalid YAML"
                let context = parser.context.map { String(cString: $0) + ": " } ?? ""
                if parser.error == YAML_READER_ERROR {
                    // The reader (encoding) reports a byte offset, not a mark.
                    let (line, column) = position(of: Int(parser.problem_offset), in: bytes)
                    throw ConfigError(file: fileName, line: line, column: column, message: "YAML syntax error: \(context)\(problem)")
                }
                throw fail(parser.problem_mark, "YAML syntax error: \(context)\(problem)")
            }
            defer { yaml_event_delete(&event) }
            let mark = YAMLNode.Mark(line: Int(event.start_mark.line) + 1, column: Int(event.start_mark.column) + 1)
            var finished: YAMLNode?
            switch event.type {
            case YAML_STREAM_START_EVENT, YAML_DOCUMENT_END_EVENT:
                break
            case YAML_STREAM_END_EVENT:
                return root ?? .mapping([], YAMLNode.Mark(line: 1, column: 1))
            case YAML_DOCUMENT_START_EVENT:
                documents += 1
                if documents > 1 { throw fail(event.start_mark, "only one YAML document is allowed in a configuration file") }
            case YAML_ALIAS_EVENT:
                throw fail(event.start_mark, "YAML aliases (*name) are not supported in the configuration")
            case YAML_SCALAR_EVENT:
                let s = event.data.scalar
                if s.anchor != nil { throw fail(event.start_mark, "YAML anchors (&name) are not supported in the configuration") }
                let text = String(decoding: UnsafeBufferPointer(start: s.value, count: Int(s.length)), as: UTF8.self)
                finished = .scalar(text, plain: s.style == YAML_PLAIN_SCALAR_STYLE, mark)
            case YAML_SEQUENCE_START_EVENT:
                if event.data.sequence_start.anchor != nil { throw fail(event.start_mark, "YAML anchors (&name) are not supported in the configuration") }
                guard stack.count < maxDepth else { throw fail(event.start_mark, "nesting deeper than \(maxDepth) levels") }
                stack.append(Builder(kind: .sequence, mark: mark))
            case YAML_MAPPING_START_EVENT:
                if event.data.mapping_start.anchor != nil { throw fail(event.start_mark, "YAML anchors (&name) are not supported in the configuration") }
                guard stack.count < maxDepth else { throw fail(event.start_mark, "nesting deeper than \(maxDepth) levels") }
                stack.append(Builder(kind: .mapping, mark: mark))
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                let b = stack.removeLast()
                if b.kind == .sequence {
                    finished = .sequence(b.items, b.mark)
                } else {
                    var entries: [(key: YAMLNode, value: YAMLNode)] = []
                    var i = 0
                    while i + 1 < b.items.count {
                        entries.append((b.items[i], b.items[i + 1]))
                        i += 2
                    }
                    finished = .mapping(entries, b.mark)
                }
            default:
                break
            }
            if let node = finished {
                if stack.isEmpty { root = node } else { stack[stack.count - 1].items.append(node) }
            }
        }
    }

    /// 1-based line and column (in characters) of byte `offset`.
    static func position(of offset: Int, in bytes: [UInt8]) -> (line: Int, column: Int) {
        var line = 1, column = 1
        for b in bytes.prefix(min(offset, bytes.count)) {
            if b == UInt8(ascii: "\n") { line += 1; column = 1 } else if b & 0xC0 != 0x80 { column += 1 }
        }
        return (line, column)
    }

    private struct Builder {
        enum Kind { case mapping, sequence }
        var kind: Kind
        var mark: YAMLNode.Mark
        var items: [YAMLNode] = []
    }
}
