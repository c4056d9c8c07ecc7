/// Converts the text of one option value or positional into a typed value. A conversion error
/// is a usage error naming the option (`name` is its first spelling, or the positional's name).
package struct ValueParser<Value> {
    /// The only texts accepted, checked by the parser before conversion, listed in help and
    /// offered by completion.
    package var choices: [String]
    package var completion: Completion
    package let convert: (_ text: String, _ name: String) throws(CLIError) -> Value

    package init(choices: [String] = [], completion: Completion = .none,
                 _ convert: @escaping (_ text: String, _ name: String) throws(CLIError) -> Value) {
        self.choices = choices
        self.completion = completion
        self.convert = convert
    }

    /// The same conversion, completed differently.
    package func completing(_ completion: Completion) -> ValueParser {
        var p = self
        p.completion = completion
        return p
    }
}

extension ValueParser where Value == String {
    /// Any text, as is.
    package static var string: ValueParser { ValueParser { text, _ in text } }
    /// A path on this machine (completed as a file name).
    package static var file: ValueParser { ValueParser(completion: .file) { text, _ in text } }
    /// A directory on this machine.
    package static var directory: ValueParser { ValueParser(completion: .directory) { text, _ in text } }
}

extension ValueParser where Value == Bool {
    /// What a flag "parses" (never called: a flag has no value).
    static var flag: ValueParser { ValueParser { _, _ in true } }
}

extension ValueParser where Value: FixedWidthInteger {
    /// A whole number from 1 to `max`: "--dim needs an integer from 1 to 65536 (got "0")".
    package static func integer(max: Value) -> ValueParser {
        ValueParser { (text, name) throws(CLIError) in
            guard let v = Value(text, radix: 10), v >= 1, v <= max else {
                throw .usage("\(name) needs an integer from 1 to \(max) (got \"\(text)\")")
            }
            return v
        }
    }
}

extension ValueParser where Value: CaseIterable & RawRepresentable, Value.RawValue == String {
    /// One of an enum's raw values, in declaration order (checked, listed in help, completed).
    package static var choice: ValueParser {
        let names = Value.allCases.map(\.rawValue)
        return ValueParser(choices: names, completion: .words(names)) { (text, name) throws(CLIError) in
            guard let v = Value(rawValue: text) else {
                throw .usage("\(name) must be one of \(names.joined(separator: ", ")) (got \"\(text)\")")
            }
            return v
        }
    }
}
