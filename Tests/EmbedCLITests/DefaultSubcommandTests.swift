import EmbedCLI
import Testing

/// A group that runs one of its subcommands when none is named (`embedctl models` lists).
@Suite(.serialized) struct DefaultSubcommandTests {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(name: "list", abstract: "List things.")
        var shape: Toy.Shape?
        var connection = Toy.Connection()
        static var arguments: [Argument<Self>] {
            [.option("--shape", value: "SHAPE", help: "the shape", \.shape, .choice), .group(\.connection)]
        }
        func run() throws(CLIError) { Toy.seen.last = self }
    }

    static var root: Command {
        Command(name: "toyctl", abstract: "A toy.", options: Toy.Connection.self, subcommands: [
            Command(name: "things", abstract: "Things.", options: Toy.Connection.self,
                    subcommands: [Command(List.self), Command(Toy.Get.self)], defaultSubcommand: "list"),
        ])
    }

    func parse(_ args: [String]) throws(CLIError) -> ArgumentParser.Outcome { try ArgumentParser(root: Self.root).parse(args) }

    func ran(_ args: [String]) throws -> Any? {
        Toy.seen.last = nil
        guard case .run(let path, let body) = try parse(args) else { Issue.record("\(args) gave help"); return nil }
        #expect(path.last == (args.contains("get") ? "get" : "list"))
        try body()
        return Toy.seen.last
    }

    @Test func theGroupAloneRunsTheDefault() throws {
        #expect(try ran(["things"]) is List)
        let l = try #require(try ran(["things", "--shape", "round"]) as? List)
        #expect(l.shape == .round)
        // Options handed down from before the group, and after it.
        let s = try #require(try ran(["--socket", "/s", "things"]) as? List)
        #expect(s.connection.socket == "/s")
        let t = try #require(try ran(["things", "--socket=/t"]) as? List)
        #expect(t.connection.socket == "/t")
        #expect(try ran(["things", "list"]) is List)
        #expect(try ran(["things", "get", "x"]) is Toy.Get)
    }

    @Test func helpIsTheGroupsAndNamesTheDefault() throws {
        guard case .help(let command, let path) = try parse(["things", "--help"]) else { Issue.record("no help"); return }
        #expect(path == ["toyctl", "things"])
        let text = command.help(path: path)
        #expect(text.contains("Usage: toyctl things [<subcommand>] [OPTIONS]"))
        #expect(text.contains("list  List things. (the default)"))
        #expect(text.contains("--shape SHAPE"), "the default's options are the group's too: \(text)")
    }

    @Test func aWordThatIsNoSubcommandIsStillAnError() {
        #expect(throws: CLIError.self) { _ = try parse(["things", "lsit"]) }
        do { _ = try parse(["things", "lsit"]) } catch { #expect(error.message.contains("unknown command 'lsit' for 'toyctl things'")) }
    }

    @Test func completionOffersTheDefaultsOptionsOnTheGroup() {
        let script = BashCompletion.script(root: Self.root, executable: "/bin/toyctl")
        #expect(script.contains("'things') subs='list get' opts='--socket --shape -h --help' valued=' --socket --shape '"), "\(script)")
    }
}
