import EmbedCLI
import Testing

/// A small command tree exercising every kind of declaration (`toyctl`).
enum Toy {
    enum Shape: String, CaseIterable { case round, square }

    struct Connection: ParsableArguments {
        var socket: String?
        static var arguments: [Argument<Self>] { [.option("--socket", value: "PATH", help: "where", \.socket, .file)] }
    }

    struct Format: ParsableArguments {
        var shape: Shape?
        var loud = false
        static var arguments: [Argument<Self>] {
            [.option("--shape", value: "SHAPE", help: "the shape", \.shape, .choice), .flag("--loud", help: "shout", \.loud)]
        }
        func validate() throws(CLIError) {
            if loud && shape == .square { throw .usage("a square cannot be loud") }
        }
    }

    /// What the last run saw (tests run one parse at a time per instance).
    final class Box: @unchecked Sendable {
        var last: Any?
    }
    static let seen = Box()

    struct Put: ParsableCommand {
        static let configuration = CommandConfiguration(name: "put", abstract: "Put things.", discussion: "Puts them.")
        var format = Format()
        var name = ""
        var texts: [Ordered<String>] = []
        var count: Int?
        var files: [Ordered<String>] = []
        var tags: [String] = []
        var dry = false
        var connection = Connection()

        static var arguments: [Argument<Self>] {
            [
                .group(\.format),
                .argument("NAME", \.name, .string.completing(.dynamic("things"))),
                .argumentsInOrder("TEXT", \.texts, .string),
                .option("-n", "--count", value: "N", help: "how many", \.count, .integer(max: 10)),
                .inOrder("--file", "-f", value: "PATH", help: "a file", \.files, .file),
                .repeated("--tag", value: "TAG", help: "a tag", \.tags, .string),
                .flag("--dry-run", help: "do nothing", \.dry),
                .group(\.connection),
            ]
        }

        func validate() throws(CLIError) {
            if dry && count != nil { throw .usage("--dry-run takes no --count") }
        }

        func run() throws(CLIError) { Toy.seen.last = self }
    }

    struct Get: ParsableCommand {
        static let configuration = CommandConfiguration(name: "get", abstract: "Get one.")
        var name = ""
        var key: String?
        var connection = Connection()
        static var arguments: [Argument<Self>] {
            [.argument("NAME", \.name, .string), .optionalArgument("KEY", \.key, .string), .group(\.connection)]
        }
        func run() throws(CLIError) { Toy.seen.last = self }
    }

    struct Drop: ParsableCommand {
        static let configuration = CommandConfiguration(name: "drop", abstract: "Drop some.")
        var keys: [String] = []
        var connection = Connection()
        static var arguments: [Argument<Self>] { [.arguments("KEY", atLeastOne: true, \.keys, .string), .group(\.connection)] }
        func run() throws(CLIError) { Toy.seen.last = self }
    }

    /// Hidden; the completion script calls it for `.dynamic` names.
    struct Complete: ParsableCommand {
        static let configuration = CommandConfiguration(name: "__complete", abstract: "Hidden.", hidden: true)
        var kind = ""
        var connection = Connection()
        static var arguments: [Argument<Self>] { [.argument("KIND", \.kind, .string), .group(\.connection)] }
        func run() throws(CLIError) { Toy.seen.last = self }
    }

    static var root: Command {
        Command(name: "toyctl", abstract: "A toy.", options: Connection.self, subcommands: [
            Command(Put.self),
            Command(name: "more", abstract: "More commands.", options: Connection.self, subcommands: [Command(Get.self), Command(Drop.self)]),
            Command(Complete.self),
        ])
    }
}

@Suite(.serialized) struct ParserTests {
    /// Parses and runs; returns the command value the run saw.
    func run<C>(_ args: [String], as: C.Type = C.self) throws -> C {
        Toy.seen.last = nil
        switch try ArgumentParser(root: Toy.root).parse(args) {
        case .run(_, let body): try body()
        case .help(_, let path): Issue.record("\(args) gave help for \(path)")
        }
        return try #require(Toy.seen.last as? C)
    }

    /// The usage error a command line gives.
    func error(_ args: [String]) -> String? {
        do {
            _ = try ArgumentParser(root: Toy.root).parse(args)
            return nil
        } catch {
            #expect(error.exitCode == 2)
            return error.message
        }
    }

    @Test func optionsFlagsAndGroupsLandInTheirFields() throws {
        let p = try run(["put", "box", "--shape", "round", "-n", "3", "--tag=a", "--tag", "b", "--loud", "--socket=/s"], as: Toy.Put.self)
        #expect(p.name == "box" && p.count == 3 && p.tags == ["a", "b"] && !p.dry)
        #expect(p.format.shape == .round && p.format.loud && p.connection.socket == "/s")
        let q = try run(["put", "box", "--count", "10"], as: Toy.Put.self)
        #expect(q.count == 10 && q.format.shape == nil && q.connection.socket == nil)
    }

    @Test func inputsKeepCommandLineOrder() throws {
        let p = try run(["put", "box", "a", "-f", "x", "b", "--file=y", "c"], as: Toy.Put.self)
        let merged = [Ordered<String>].inCommandLineOrder([p.texts, p.files.map { $0.map { "file:" + $0 } }]).map(\.value)
        #expect(merged == ["a", "file:x", "b", "file:y", "c"])
        // After --, everything is positional; "-" alone is a positional too.
        let q = try run(["put", "box", "-", "--", "--tag", "-n"], as: Toy.Put.self)
        #expect(q.texts.map(\.value) == ["-", "--tag", "-n"] && q.tags.isEmpty)
    }

    @Test func positionalArities() throws {
        #expect(try run(["more", "get", "c"], as: Toy.Get.self).key == nil)
        #expect(try run(["more", "get", "c", "k"], as: Toy.Get.self).key == "k")
        #expect(try run(["more", "drop", "a", "b", "c"], as: Toy.Drop.self).keys == ["a", "b", "c"])
        #expect(error(["put"]) == "'toyctl put' needs NAME [TEXT...]\nSee 'toyctl put --help'.")
        #expect(error(["more", "get"]) == "'toyctl more get' needs NAME [KEY]\nSee 'toyctl more get --help'.")
        #expect(error(["more", "get", "a", "b", "c"]) == "unexpected argument 'c' for 'toyctl more get'\nSee 'toyctl more get --help'.")
        #expect(error(["more", "drop"]) == "'toyctl more drop' needs KEY...\nSee 'toyctl more drop --help'.")
    }

    @Test func usageErrorsNameTheOptionAndTheProblem() {
        #expect(error(["put", "b", "--nope"]) == "unknown option '--nope' for 'toyctl put'\nSee 'toyctl put --help'.")
        #expect(error(["put", "b", "--count"]) == "--count needs a value (N)")
        #expect(error(["put", "b", "-n", "0"]) == "-n needs an integer from 1 to 10 (got \"0\")")
        #expect(error(["put", "b", "-n", "11"]) == "-n needs an integer from 1 to 10 (got \"11\")")
        #expect(error(["put", "b", "-n", "x"]) == "-n needs an integer from 1 to 10 (got \"x\")")
        #expect(error(["put", "b", "--shape", "oval"]) == "--shape must be one of round, square (got \"oval\")")
        #expect(error(["put", "b", "-n", "1", "--count", "2"]) == "--count given more than once")
        #expect(error(["put", "b", "--dry-run=yes"]) == "--dry-run takes no value")
        #expect(error(["bogus"]) == "unknown command 'bogus' for 'toyctl' (expected one of: put, more)\nSee 'toyctl --help'.")
        #expect(error(["more", "x"]) == "unknown command 'x' for 'toyctl more' (expected one of: get, drop)\nSee 'toyctl more --help'.")
        #expect(error(["--shape", "round", "put"]) == "unknown option '--shape' for 'toyctl'\nSee 'toyctl --help'.")
    }

    @Test func validationRunsGroupsThenTheCommand() {
        #expect(error(["put", "b", "--shape", "square", "--loud"]) == "a square cannot be loud")
        #expect(error(["put", "b", "--dry-run", "-n", "2"]) == "--dry-run takes no --count")
    }

    @Test func groupOptionsMayComeBeforeTheSubcommand() throws {
        #expect(try run(["--socket", "/a", "put", "b"], as: Toy.Put.self).connection.socket == "/a")
        #expect(try run(["more", "--socket=/c", "get", "n"], as: Toy.Get.self).connection.socket == "/c")
        #expect(error(["--socket=/b", "more", "--socket", "/c", "get", "n"]) == "--socket given more than once")
        // A flag, or an option without its value, ends the walk: it belongs to the group itself.
        #expect(error(["--socket"]) == "--socket needs a value (PATH)")
    }

    @Test func helpIsGeneratedFromTheDeclarations() throws {
        let parser = ArgumentParser(root: Toy.root)
        for args in [["put", "--help"], ["put", "-h", "--nope"], ["put", "x", "-n", "99", "--help"]] {
            guard case .help(let c, let path) = try parser.parse(args) else { Issue.record("\(args)"); continue }
            #expect(c.name == "put" && path == ["toyctl", "put"])
        }
        guard case .help(let put, let path) = try parser.parse(["put", "--help"]) else { return }
        #expect(put.help(path: path) == """
        Put things.

        Usage: toyctl put [OPTIONS] NAME [TEXT...]

        Puts them.

        Options:
          --shape SHAPE    the shape (round|square)
          --loud           shout
          -n, --count N    how many
          --file, -f PATH  a file [repeatable]
          --tag TAG        a tag [repeatable]
          --dry-run        do nothing
          --socket PATH    where
          -h, --help       show help for this command

        """)
        // A group's help lists its subcommands; hidden commands are not listed.
        guard case .help(let root, let rootPath) = try parser.parse(["--help"]) else { Issue.record("no help"); return }
        let text = root.help(path: rootPath)
        #expect(text.contains("Usage: toyctl <subcommand> [OPTIONS]") && text.contains("  more  More commands."))
        #expect(!text.contains("__complete"))
        // ...but they run.
        #expect(try run(["__complete", "things"], as: Toy.Complete.self).kind == "things")
    }

    /// A group without its subcommand is a usage error (exit 2) that shows the group's help
    /// (issue 25, item 5); `--help` on it is not an error.
    @Test func aGroupWithoutASubcommandIsAUsageErrorWithItsHelp() throws {
        let parser = ArgumentParser(root: Toy.root)
        let more = try #require(error(["more"]))
        #expect(more.hasPrefix("'toyctl more' needs a subcommand (one of: get, drop)\n\nMore commands.\n\nUsage: toyctl more <subcommand>"), "\(more)")
        #expect(more.contains("  drop  "))
        let root = try #require(error([]))
        #expect(root.hasPrefix("'toyctl' needs a subcommand (one of: put, more)\n\nA toy."), "\(root)")
        #expect(!root.contains("__complete"))
        #expect(error(["--socket", "/s"]).map { $0.hasPrefix("'toyctl' needs a subcommand") } == true)
        #expect(error(["more", "--socket=/s"]).map { $0.hasPrefix("'toyctl more' needs a subcommand") } == true)
        guard case .help(_, let path) = try parser.parse(["more", "--help"]) else { Issue.record("no help"); return }
        #expect(path == ["toyctl", "more"])
    }

    @Test func declarationsDescribeThemselves() {
        let infos = Toy.Put.argumentInfos
        #expect(infos.map(\.primary) == ["--shape", "--loud", "NAME", "TEXT", "-n", "--file", "--tag", "--dry-run", "--socket"])
        let shape = infos[0]
        #expect(shape.choices == ["round", "square"] && shape.completion == .words(["round", "square"]) && shape.takesValue)
        #expect(infos[2].kind == .positional(.one) && infos[2].completion == .dynamic("things"))
        #expect(infos[3].usage == "[TEXT...]" && infos[5].repeatable && !infos[7].takesValue)
    }
}
