import EmbedClient
import EmbedWire

/// The read-only commands: status, models, plugins list.
enum Commands {
    static let formatOption = OptionSpec(names: ["--format"], valueName: "FORMAT", help: "output format (default table)",
                                         choices: ["table", "json"])

    static func call<R: ProtoMessage>(_ g: GlobalOptions, _ method: MethodID, _ request: some ProtoMessage, _: R.Type) throws(CLIError) -> R {
        let client = try g.connect()
        defer { client.close() }
        do { return try client.call(method, request, as: R.self, deadlineMilliseconds: g.deadlineMilliseconds) } catch {
            throw .runtime(error.description)
        }
    }

    static var status: Command {
        Command(name: "status", abstract: "Show the daemon's state, counters, models and plugins.", options: [formatOption]) {
            (args, g) throws(CLIError) in
            let s = try call(g, .status, StatusRequest(), StatusResponse.self)
            if args.value("--format") == "json" {
                Output.out(JSON.object([
                    ("version", JSON.string(s.version)), ("pid", String(s.pid)), ("state", JSON.string(s.state)),
                    ("uptime_ms", String(s.uptimeMs)), ("socket", JSON.string(s.socketPath)), ("config", JSON.string(s.configPath)),
                    ("connections", String(s.connections)), ("calls_total", String(s.callsTotal)),
                    ("calls_in_flight", String(s.callsInFlight)), ("reloads", String(s.reloads)),
                    ("last_reload_error", JSON.string(s.lastReloadError)),
                    ("data_dir", JSON.string(s.dataDir)), ("plugins_dir", JSON.string(s.pluginsDir)), ("models_dir", JSON.string(s.modelsDir)),
                    ("protocol", JSON.string("\(s.protocolMajor).\(s.protocolMinor)")),
                    ("models", JSON.array(s.models.map { Rendering.modelJSON($0, indent: "    ") }, indent: "  ")),
                    ("plugins", JSON.array(s.plugins.map { Rendering.pluginJSON($0, indent: "    ") }, indent: "  ")),
                ]) + "\n")
                return
            }
            let ready = s.models.filter { $0.state == .ready }.count
            var out = """
            embedd \(s.version) (pid \(s.pid)), \(s.state), up \(Rendering.duration(ms: s.uptimeMs))
            socket:      \(s.socketPath)
            config:      \(s.configPath.isEmpty ? "(built-in defaults)" : s.configPath)
            protocol:    \(s.protocolMajor).\(s.protocolMinor)
            connections: \(s.connections)
            calls:       \(s.callsTotal) total, \(s.callsInFlight) in flight
            reloads:     \(s.reloads)\(s.lastReloadError.isEmpty ? "" : " (last error: \(s.lastReloadError))")
            models:      \(ready) of \(s.models.count) ready

            """
            out += "\n" + Rendering.modelsTable(s.models)
            out += "\n" + Rendering.pluginsTable(s.plugins)
            Output.out(out)
        }
    }

    static var models: Command {
        Command(name: "models", abstract: "List configured models and their state (* marks the default).", options: [formatOption]) {
            (args, g) throws(CLIError) in
            let r = try call(g, .listModels, ListModelsRequest(), ListModelsResponse.self)
            if args.value("--format") == "json" {
                Output.out(JSON.array(r.models.map { Rendering.modelJSON($0, indent: "  ") }) + "\n")
            } else {
                Output.out(Rendering.modelsTable(r.models))
            }
        }
    }

    static var plugins: Command {
        let list = Command(name: "list", abstract: "List loaded plugins.", options: [formatOption]) { (args, g) throws(CLIError) in
            let r = try call(g, .listPlugins, ListPluginsRequest(), ListPluginsResponse.self)
            if args.value("--format") == "json" {
                Output.out(JSON.array(r.plugins.map { Rendering.pluginJSON($0, indent: "  ") }) + "\n")
            } else {
                Output.out(Rendering.pluginsTable(r.plugins))
            }
        }
        let load = Command(name: "load", abstract: "Load a plugin library into the daemon (admin).",
                           discussion: "PLUGIN is a name found in the daemon's plugins directory (e.g. text), or a path on the\ndaemon's machine; relative paths are taken inside the plugins directory.",
                           arguments: "PLUGIN", options: [formatOption], minPositionals: 1, maxPositionals: 1) { (args, g) throws(CLIError) in
            let r = try call(g, .loadPlugin, LoadPluginRequest(path: args.positionals[0]), LoadPluginResponse.self)
            let p = r.plugin ?? PluginInfo()
            if args.value("--format") == "json" { Output.out(Rendering.pluginJSON(p, indent: "") + "\n") } else {
                Output.out("loaded plugin \(p.name) \(p.version) (ABI \(p.abiVersion)) from \(p.path)\n")
            }
        }
        let reload = Command(name: "reload", abstract: "Hot-swap the models of a plugin (admin).",
                             discussion: "Loads a new generation of every model served by PLUGIN (or only --model), switches calls to it\nwhen it is ready, and releases the old one after its calls finish. If loading fails, the old\ngeneration keeps serving and the command exits 1. --path loads the models from another build of\nthe plugin library.",
                             arguments: "PLUGIN",
                             options: [formatOption, OptionSpec(names: ["--path"], valueName: "FILE", help: "plugin library to load the new generation from"),
                                       OptionSpec(names: ["--model"], valueName: "NAME", help: "reload only this model")],
                             minPositionals: 0, maxPositionals: 1) { (args, g) throws(CLIError) in
            let plugin = args.positionals.first ?? ""
            if plugin.isEmpty && args.value("--model") == nil { throw .usage("'embedctl plugins reload' needs PLUGIN or --model NAME") }
            let r = try call(g, .reloadPlugin, ReloadPluginRequest(plugin: plugin, path: args.value("--path") ?? "", model: args.value("--model") ?? ""),
                             ReloadPluginResponse.self)
            if args.value("--format") == "json" {
                Output.out(JSON.array(r.models.map { Rendering.modelJSON($0, indent: "  ") }) + "\n")
            } else {
                for m in r.models { Output.out("reloaded \(m.name): generation \(m.generation), version \(m.version)\n") }
            }
        }
        let unload = Command(name: "unload", abstract: "Unload a model (admin); its calls in flight finish first.",
                             arguments: "MODEL", options: [formatOption], minPositionals: 1, maxPositionals: 1) { (args, g) throws(CLIError) in
            let r = try call(g, .unloadModel, UnloadModelRequest(name: args.positionals[0]), UnloadModelResponse.self)
            if args.value("--format") == "json" {
                Output.out((r.model.map { Rendering.modelJSON($0, indent: "") } ?? "{}") + "\n")
            } else {
                Output.out("unloaded model \(args.positionals[0])\n")
            }
        }
        return Command(name: "plugins", abstract: "List, load and reload plugins; unload models.", subcommands: [list, load, reload, unload])
    }
}
