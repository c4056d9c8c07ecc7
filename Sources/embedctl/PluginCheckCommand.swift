import EmbedPluginCheck

/// `embedctl plugin check`: runs the plugin conformance kit in this process (no daemon needed).
enum PluginCheckCommand {
    static var command: Command {
        let check = Command(
            name: "check", abstract: "Check that a plugin library honours the embedd plugin contract.",
            discussion: "Loads PLUGIN.so in this process (no daemon involved), loads a model from --model-dir with the\ngiven options, and runs every conformance check. Exit status 0 when all pass, 1 otherwise.",
            arguments: "PLUGIN.so",
            options: [
                OptionSpec(names: ["--model-dir"], valueName: "DIR", help: "model directory to load (default: an empty temporary one)"),
                OptionSpec(names: ["--option", "-o"], valueName: "KEY=VALUE", help: "plugin option", repeatable: true),
                OptionSpec(names: ["--format"], valueName: "FORMAT", help: "output format (default table)", choices: ["table", "json"]),
            ],
            minPositionals: 1, maxPositionals: 1
        ) { (args, _) throws(CLIError) in
            var options: [String: String] = [:]
            for o in args.all("--option") {
                guard let eq = o.firstIndex(of: "="), eq != o.startIndex else { throw .usage("--option needs KEY=VALUE (got \"\(o)\")") }
                options[String(o[..<eq])] = String(o[o.index(after: eq)...])
            }
            let report = ConformanceKit.run(pluginPath: args.positionals[0], modelDirectory: args.value("--model-dir"), options: options)
            var text = args.value("--format") == "json" ? report.renderJSON() : report.renderText()
            if !text.hasSuffix("\n") { text += "\n" }
            Output.out(text)
            if !report.passed { throw CLIError(exitCode: 1, message: "") }
        }
        return Command(name: "plugin", abstract: "Plugin development tools.", subcommands: [check])
    }
}
