@testable import EmbedStore
import Testing

/// The filter language's spelling: what each form parses to, and the message (with its byte
/// offset) of each mistake — the text embedctl and the Python client both show.
@Suite struct FilterLanguageTests {
    typealias N = MetadataFilter.Node

    func parse(_ text: String) throws -> N? { try MetadataFilter(json: text)?.root }

    @Test func spellings() throws {
        #expect(try MetadataFilter(json: "") == nil)
        #expect(try MetadataFilter(json: " \n ") == nil)
        #expect(try MetadataFilter(json: "{}") == MetadataFilter())
        #expect(try MetadataFilter(json: "{}")?.isEmpty == true)
        // Today's forms keep their meaning: a scalar is equality, a list is any-of.
        #expect(try MetadataFilter(json: #"{"lang": "en"}"#) == MetadataFilter().equals("lang", .string("en")))
        #expect(try MetadataFilter(json: #"{"y": [2023, 2024.0], "ok": true}"#)
                == MetadataFilter().in("y", [.number(2023), .number(2024)]).equals("ok", .bool(true)))
        #expect(try MetadataFilter(json: #"{"y": {"$in": [1, null]}, "s": {"$eq": "a\"b"}}"#)
                == MetadataFilter().in("y", [.number(1), .null]).equals("s", .string("a\"b")))
        // embedctl's spellings without the '$'.
        #expect(try parse(#"{"y": {"in": [1]}, "s": {"eq": "x"}}"#) == .and([.field("y", .in([.number(1)])), .field("s", .eq(.string("x")))]))
        // Every field operator.
        let ops: [(String, MetadataFilter.Operator)] = [
            (#"{"$eq": 1}"#, .eq(.number(1))), (#"{"$ne": "a"}"#, .ne(.string("a"))), (#"{"$gt": 1.5}"#, .gt(.number(1.5))),
            (#"{"$gte": "b"}"#, .gte(.string("b"))), (#"{"$lt": -2}"#, .lt(.number(-2))), (#"{"$lte": 1e3}"#, .lte(.number(1000))),
            (#"{"$in": [true, null]}"#, .in([.bool(true), .null])), (#"{"$nin": ["x"]}"#, .nin([.string("x")])),
            (#"{"$exists": false}"#, .exists(false)), (#"{"$contains": "t"}"#, .contains(.string("t"))),
        ]
        for (text, op) in ops {
            #expect(try parse(#"{"f": "# + text + "}") == .and([.field("f", op)]), "\(text)")
        }
        // Several operators in one object: all must hold.
        #expect(try parse(#"{"y": {"$gte": 2000, "$lt": 2010}}"#) == .and([.and([.field("y", .gte(.number(2000))), .field("y", .lt(.number(2010)))])]))
        // $and / $or / $not at any level, a field-level $not, dotted paths.
        #expect(try parse(#"{"$or": [{"a": 1}, {"$not": {"b.c": {"$exists": true}}}], "d": {"$not": {"$in": [1, 2]}}}"#)
                == .and([.or([.and([.field("a", .eq(.number(1)))]), .and([.not(.and([.field("b.c", .exists(true))]))])]),
                         .not(.field("d", .in([.number(1), .number(2)])))]))
        #expect(try parse(#"{"$and": [{}, {"x": {"$not": 3}}]}"#) == .and([.and([.and([]), .and([.not(.field("x", .eq(.number(3))))])])]))
    }

    @Test func errorsNameTheProblemAndTheByte() {
        func message(_ text: String) -> String {
            do { _ = try MetadataFilter(json: text); return "no error" } catch {
                guard case .invalidArgument(let m) = error else { return "\(error)" }
                return m
            }
        }
        let cases: [(String, String)] = [
            ("[1]", #"filter must be a JSON object such as {"lang": "en"} or {"year": {"$gte": 2023}} at byte 0"#),
            ("  7", "filter must be a JSON object such as {\"lang\": \"en\"} or {\"year\": {\"$gte\": 2023}} at byte 2"),
            ("{", "filter is not valid JSON: expected a field name in quotes at byte 1"),
            (#"{"a": 1} x"#, "filter is not valid JSON: unexpected text after the filter object at byte 9"),
            (#"{"a" 1}"#, "filter is not valid JSON: expected ':' after \"a\" at byte 5"),
            (#"{"a": 1 "b": 2}"#, "filter is not valid JSON: expected ',' or '}' at byte 8"),
            (#"{"a": tru}"#, "filter is not valid JSON: invalid literal (expected true, false or null) at byte 6"),
            (#"{"": 1}"#, "filter has an empty field name at byte 1"),
            (#"{"a": []}"#, "filter on 'a': the list of values is empty at byte 7"),
            (#"{"a": [1, {"b": 1}]}"#, "filter on 'a': values must be strings, numbers, booleans or null at byte 10"),
            (#"{"a": {}}"#, #"filter on 'a': the operator object is empty (write a value, a list or operators such as {"$gt": 1}) at byte 6"#),
            (#"{"a": {"$like": "e%"}}"#, "filter on 'a': unknown operator '$like' (supported: \(FilterParser.fieldOperators)) at byte 7"),
            (#"{"a": {"lang": "en"}}"#, "filter on 'a': unknown operator 'lang' (supported: \(FilterParser.fieldOperators); for a field inside an object write \"a.lang\") at byte 7"),
            (#"{"a": {"$eq": [3]}}"#, "filter on 'a': \"$eq\" takes a string, number, boolean or null at byte 14"),
            (#"{"a": {"$ne": {}}}"#, "filter on 'a': \"$ne\" takes a string, number, boolean or null at byte 14"),
            (#"{"a": {"$contains": [1]}}"#, "filter on 'a': \"$contains\" takes a string, number, boolean or null at byte 20"),
            (#"{"a": {"$gt": true}}"#, "filter on 'a': \"$gt\" takes a number or a string at byte 14"),
            (#"{"a": {"$lte": null}}"#, "filter on 'a': \"$lte\" takes a number or a string at byte 15"),
            (#"{"a": {"$in": 3}}"#, "filter on 'a': \"$in\" takes an array at byte 14"),
            (#"{"a": {"$nin": "x"}}"#, "filter on 'a': \"$nin\" takes an array at byte 15"),
            (#"{"a": {"$exists": 1}}"#, "filter on 'a': \"$exists\" takes true or false at byte 18"),
            (#"{"$and": {"a": 1}}"#, "filter: \"$and\" takes a list of filter objects at byte 9"),
            (#"{"$or": []}"#, "filter: \"$or\" has an empty list at byte 8"),
            (#"{"$or": [1]}"#, #"filter: the items of "$or" must be filter objects such as {"lang": "en"} at byte 9"#),
            (#"{"$not": [{"a": 1}]}"#, #"filter: "$not" takes a filter object such as {"lang": "en"} at byte 9"#),
            (#"{"a": 1, "$nor": []}"#, #"filter: unknown operator '$nor' (here: $and, $or, $not; the others go inside a field, as in {"year": {"$gt": 2000}}) at byte 9"#),
            (#"{"$gt": 1}"#, #"filter: unknown operator '$gt' (here: $and, $or, $not; the others go inside a field, as in {"year": {"$gt": 2000}}) at byte 1"#),
        ]
        for (text, want) in cases {
            #expect(message(text) == want, "\(text)")
        }
        let deep = String(repeating: #"{"$not": "#, count: 40) + "{}" + String(repeating: "}", count: 40)
        #expect(message(deep) == "filter nests deeper than 32 levels at byte 297")
        let deepField = #"{"a": "# + String(repeating: #"{"$not": "#, count: 40) + "1" + String(repeating: "}", count: 41)
        #expect(message(deepField).hasPrefix("filter nests deeper than 32 levels at byte "))
    }

    @Test func filtersBuiltInCodeAreChecked() {
        #expect(throws: StoreError.self) { try MetadataFilter().equals("", .null).validate() }
        #expect(throws: StoreError.self) { try MetadataFilter().in("a", []).validate() }
        #expect(throws: StoreError.self) { try MetadataFilter(.not(.field("a", .gt(.bool(true))))).validate() }
        #expect(throws: Never.self) { try MetadataFilter(.or([.field("a", .nin([.null])), .field("b", .lt(.string("x")))])).validate() }
    }

    @Test func metadataProblems() {
        #expect(Record.metadataProblem(#"{"a": [1, {"b": null}]}"#) == nil)
        #expect(Record.metadataProblem("[1]")?.contains("must be a JSON object") == true)
        #expect(Record.metadataProblem(#"{"a": }"#)?.contains("not valid JSON") == true)
    }
}
