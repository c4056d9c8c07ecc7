import EmbedJSON

/// Typed reads of one configuration object's fields, every failure naming the file and field.
/// Absent and `null` fields read as nil: `transformers` then uses the class default.
struct FieldReader {
    let json: JSONValue
    let name: String

    enum IntSize { case square, shortestEdge }

    private func value(_ key: String) -> JSONValue? {
        guard let v = json[key], !v.isNull else { return nil }
        return v
    }

    private func fail(_ key: String, _ problem: String) -> VisionError {
        .file(name, "\(key): \(problem)")
    }

    func bool(_ key: String) throws(VisionError) -> Bool? {
        guard let v = value(key) else { return nil }
        guard let b = v.bool else { throw fail(key, "expected true or false, found \(v.typeName)") }
        return b
    }

    func string(_ key: String) throws(VisionError) -> String? {
        guard let v = value(key) else { return nil }
        guard let s = v.string else { throw fail(key, "expected a string, found \(v.typeName)") }
        return s
    }

    func int(_ key: String) throws(VisionError) -> Int? {
        guard let v = value(key) else { return nil }
        guard let i = v.int else { throw fail(key, "expected an integer, found \(v.number.map { "\($0)" } ?? v.typeName)") }
        return i
    }

    func number(_ key: String) throws(VisionError) -> Double? {
        guard let v = value(key) else { return nil }
        guard let d = v.double, d.isFinite else { throw fail(key, "expected a finite number, found \(v.typeName)") }
        return d
    }

    /// A number (the same for R, G and B) or an array of three numbers.
    func channels(_ key: String) throws(VisionError) -> [Double]? {
        guard let v = value(key) else { return nil }
        if let d = v.double, d.isFinite { return [d, d, d] }
        guard let items = v.array else { throw fail(key, "expected a number or 3 numbers, found \(v.typeName)") }
        let numbers = items.compactMap { $0.double }.filter(\.isFinite)
        guard numbers.count == items.count, numbers.count == 3 else {
            throw fail(key, "expected 3 numbers (R, G, B), found \(items.count) element(s)")
        }
        return numbers
    }

    /// `get_size_dict`: an integer (a square or a shortest edge, per `intMeans`), `[height, width]`,
    /// or a dictionary with exactly one of the key sets EmbedVision supports.
    func size(_ key: String, intMeans: IntSize) throws(VisionError) -> ImageProcessorConfig.Size? {
        guard let v = value(key) else { return nil }
        func positive(_ x: JSONValue?, _ field: String) throws(VisionError) -> Int {
            guard let n = x?.int, n > 0 else {
                throw fail(key, "\(field) must be a positive integer, found \(x.map { $0.number.map { "\($0)" } ?? $0.typeName } ?? "nothing")")
            }
            return n
        }
        if v.number != nil {
            let n = try positive(v, "the size")
            return intMeans == .square ? .exact(height: n, width: n) : .shortestEdge(n)
        }
        if let items = v.array {
            guard items.count == 2 else { throw fail(key, "expected [height, width], found \(items.count) element(s)") }
            return .exact(height: try positive(items[0], "height"), width: try positive(items[1], "width"))
        }
        guard let members = v.members else { throw fail(key, "expected a number, a list or an object, found \(v.typeName)") }
        let keys = Set(members.map(\.0))
        switch keys {
        case ["shortest_edge"]:
            return .shortestEdge(try positive(v["shortest_edge"], "shortest_edge"))
        case ["shortest_edge", "longest_edge"]:
            return .shortestAndLongestEdge(try positive(v["shortest_edge"], "shortest_edge"),
                                           try positive(v["longest_edge"], "longest_edge"))
        case ["height", "width"]:
            return .exact(height: try positive(v["height"], "height"), width: try positive(v["width"], "width"))
        default:
            throw fail(key, "unsupported keys \(keys.sorted()) (embedd supports shortest_edge, "
                       + "shortest_edge + longest_edge, height + width)")
        }
    }
}
