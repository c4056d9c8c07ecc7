import EmbedCLI
import EmbedPluginCheck

/// `embedctl plugin check`: runs the plugin conformance kit in this process (no daemon needed).
enum PluginCheckCommand {
    static var command: Command {
        Command(name: "plugin", abstract: "Plugin development tools.", options: ConnectionOptions.self, subcommands: [Command(Check.self)])
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            name: "check", abstract: "Check that a plugin library honours the embedd plugin contract.",
            discussion: "Loads PLUGIN.so in this process (no daemon involved), loads a model from --model-dir with the\ngiven options, and runs every conformance check. Exit status 0 when all pass, 1 otherwise.")
        var plugin = ""
        var modelDirectory: String?
        var options: [(key: String, value: String)] = []
        var output = FormatOptions()
        /// Accepted like everywhere (so scripts may always pass them); not used: no daemon is involved.
        var connection = ConnectionOptions()

        static var arguments: [Argument<Self>] {
            [
                .argument("PLUGIN.so", \.plugin, ValueParser.file.completing(.fileMatching("*.so"))),
                .option("--model-dir", value: "DIR", help: "model directory to load (default: an empty temporary one)", \.modelDirectory, .directory),
                .repeated("--option", "-o", value: "KEY=VALUE", help: "plugin option", \.options,
                          ValueParser { (o, name) throws(CLIError) in
                              guard let eq = o.firstIndex(of: "="), eq != o.startIndex else { throw .usage("\(name) needs KEY=VALUE (got \"\(o)\")") }
                              return (String(o[..<eq]), String(o[o.index(after: eq)...]))
                          }),
                .group(\.output),
                .group(\.connection),
            ]
        }

        func run() throws(CLIError) {
            var settings: [String: String] = [:]
            for (key, value) in options { settings[key] = value }
            let report = ConformanceKit.run(pluginPath: plugin, modelDirectory: modelDirectory, options: settings)
            var text = output.json ? report.renderJSON() : report.renderText()
            if !text.hasSuffix("\n") { text += "\n" }
            Output.out(text)
            if !report.passed { throw CLIError(exitCode: 1, message: "") }
        }
    }
}
