/// A typed command line, in the shape of swift-argument-parser (which we do not depend on).
///
/// A command is a struct of typed fields with a static table that declares, once, each option,
/// flag and positional argument: its names, help, value parser and the key path it fills.
///
///     struct Search: ParsableCommand {
///         var format = FormatOptions()                  // a shared group (@OptionGroup)
///         var collection = ""
///         var k: Int?
///         static var arguments: [Argument<Search>] {
///             [.group(\.format),
///              .argument("NAME", \.collection, .string),
///              .option("-k", "--k", value: "N", help: "results per query", \.k, .integer(max: 10_000))]
///         }
///     }
///
/// `ArgumentParser` reads the table and nothing else: it splits the words, checks names, counts
/// and choices, then sets each field through its key path. Help and the bash completion script
/// are generated from the same table, so they cannot drift from what is parsed.
///
/// Why a table rather than property wrappers: swift-argument-parser finds its `@Option`s with
/// `Mirror`, which needs a reflection pass per parse and, in the way it is usually written, an
/// instance to reflect on. A static table of key paths needs neither, is checked by the
/// compiler (a key path of the wrong type does not build), and keeps each command's fields
/// plain `var`s with their defaults in plain sight.
package protocol ParsableArguments {
    init()
    /// Every option, flag, positional argument and group of this type, in help order.
    static var arguments: [Argument<Self>] { get }
    /// Checks that involve more than one field (run after every value is set). Default: none.
    func validate() throws(CLIError)
}

extension ParsableArguments {
    package func validate() throws(CLIError) {}

    /// The declarations, flattened (groups expanded), without their setters.
    package static var argumentInfos: [ArgumentInfo] { arguments.flatMap(\.entries).map(\.info) }
}

/// A leaf of the command tree: its options are `Self`'s fields, and `run` does the work.
package protocol ParsableCommand: ParsableArguments {
    static var configuration: CommandConfiguration { get }
    func run() throws(CLIError)
}

/// A command's name and help texts.
package struct CommandConfiguration {
    package var name: String
    package var abstract: String
    package var discussion: String
    /// Left out of help, the "expected one of" list and completion (internal plumbing).
    package var hidden: Bool

    package init(name: String, abstract: String, discussion: String = "", hidden: Bool = false) {
        self.name = name
        self.abstract = abstract
        self.discussion = discussion
        self.hidden = hidden
    }
}

/// A value together with where it stood on the command line, so that inputs given by several
/// options and positionals (`embed a --file x b`) can be taken in command-line order.
package struct Ordered<Value> {
    /// The index of the word it came from; only comparisons between positions mean anything.
    package var position: Int
    package var value: Value

    package init(position: Int, value: Value) {
        self.position = position
        self.value = value
    }

    package func map<T>(_ transform: (Value) -> T) -> Ordered<T> { Ordered<T>(position: position, value: transform(value)) }
}

extension Array {
    /// The elements of `lists` merged in command-line order.
    package static func inCommandLineOrder<Value>(_ lists: [[Ordered<Value>]]) -> [Ordered<Value>] where Element == Ordered<Value> {
        lists.joined().sorted { $0.position < $1.position }
    }
}
