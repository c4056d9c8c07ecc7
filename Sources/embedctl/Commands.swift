import EmbedCLI
import EmbedWire

/// The read-only commands (status, models, plugins list) and the plugin admin commands.
enum Commands {
    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(name: "status", abstract: "Show the daemon's state, counters, models and plugins.")
        var output = FormatOptions()
        var connection = ConnectionOptions()
        static var arguments: [Argument<Self>] { [.group(\.output), .group(\.connection)] }

        func run() throws(CLIError) {
            let s = try connection.call(.status, StatusRequest(), StatusResponse.self)
            if output.json {
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

    /// `embedctl models [list]|load|unload`.
    static var models: Command {
        Command(name: "models", abstract: "List models (the default), load one from the shell, unload one.", options: ConnectionOptions.self,
                subcommands: [Command(ListModels.self), Command(LoadModel.self), Command(UnloadModel.self)],
                defaultSubcommand: "list")
    }

    struct ListModels: ParsableCommand {
        static let configuration = CommandConfiguration(
            name: "list", abstract: "List models and their state (* marks the default).",
            discussion: "SOURCE says where each model comes from: config (the configuration file), models.d (loaded\nwith 'embedctl models load', kept under DATA_DIR/models.d) or call (loaded with --temporary).")
        var output = FormatOptions()
        var connection = ConnectionOptions()
        static var arguments: [Argument<Self>] { [.group(\.output), .group(\.connection)] }

        func run() throws(CLIError) {
            let r = try connection.call(.listModels, ListModelsRequest(), ListModelsResponse.self)
            if output.json {
                Output.out(JSON.array(r.models.map { Rendering.modelJSON($0, indent: "  ") }) + "\n")
            } else {
                Output.out(Rendering.modelsTable(r.models))
            }
        }
    }

    struct LoadModel: ParsableCommand {
        static let configuration = CommandConfiguration(
            name: "load", abstract: "Load a model into the running daemon and keep it across restarts (admin).",
            discussion: """
            Loads NAME with plugin PLUGIN (a name in the daemon's plugins_dir, such as text, clip, image,
            audio, video; or a path) from DIR (relative: inside the daemon's models_dir; absolute: as
            given, and the daemon must be able to read it: the systemd unit hides /home). The model is
            written to DATA_DIR/models.d/NAME.yaml and loaded again at every start, after the models of
            the configuration file, until 'embedctl models unload NAME'. --temporary skips that file: the
            model is gone when the daemon stops. A name of the configuration file (after 'models unload')
            loads with these settings but is never kept: that file decides at the next start or reload.
            The command returns when the model is ready, or fails with the plugin's reason (nothing is
            kept then).
            """)
        var output = FormatOptions()
        var name = ""
        var plugin: String?
        var directory: String?
        var options: [(key: String, value: String)] = []
        var temporary = false
        var connection = ConnectionOptions()
        static var arguments: [Argument<Self>] {
            [
                .group(\.output),
                .argument("NAME", \.name, .string),
                .option("--plugin", "-p", value: "PLUGIN", help: "plugin to load it with (required)", \.plugin, .plugin),
                .option("--dir", "-d", value: "DIR", help: "model directory (default: NAME, inside the daemon's models_dir)", \.directory, .directory),
                .repeated("--option", "-o", value: "KEY=VALUE", help: "plugin option, as under options: in embedd.yaml", \.options,
                          ValueParser { (o, name) throws(CLIError) in
                              guard let eq = o.firstIndex(of: "="), eq != o.startIndex else { throw .usage("\(name) needs KEY=VALUE (got \"\(o)\")") }
                              return (String(o[..<eq]), String(o[o.index(after: eq)...]))
                          }),
                .flag("--temporary", help: "do not keep it: gone when the daemon stops", \.temporary),
                .group(\.connection),
            ]
        }

        func validate() throws(CLIError) {
            if (plugin ?? "").isEmpty { throw .usage("'embedctl models load' needs --plugin PLUGIN (e.g. --plugin text)") }
            var seen = Set<String>()
            for o in options where !seen.insert(o.key).inserted { throw .usage("--option \(o.key) given more than once") }
        }

        func run() throws(CLIError) {
            var settings: [String: String] = [:]
            for (key, value) in options { settings[key] = value }
            let r = try connection.call(.loadModel, LoadModelRequest(name: name, plugin: plugin ?? "", modelDir: directory ?? "", options: settings,
                                                                     temporary: temporary), LoadModelResponse.self)
            let m = r.model ?? ModelInfo(name: name)
            if output.json { Output.out(Rendering.modelJSON(m, indent: "") + "\n"); return }
            var text = "loaded model \(m.name) (plugin \(m.plugin), dim \(m.dimension), space \(m.embeddingSpace)) from \(m.modelDir)\n"
            if !m.sourceFile.isEmpty {
                text += "kept in \(m.sourceFile): it loads again at every start\n"
            } else if temporary {
                text += "not kept: it is gone when the daemon stops\n"
            } else {
                // The daemon keeps no second definition of a name its configuration file has.
                text += "not kept: the configuration file names \(m.name), and loads it as written there at the next start or reload\n"
            }
            Output.out(text)
        }
    }
    /// `embedctl plugins list|load|reload|unload`.
    static var plugins: Command {
        Command(name: "plugins", abstract: "List, load and reload plugins; unload models.", options: ConnectionOptions.self,
                subcommands: [Command(ListPlugins.self), Command(LoadPlugin.self), Command(ReloadPlugin.self), Command(UnloadModel.self)])
    }

    struct ListPlugins: ParsableCommand {
        static let configuration = CommandConfiguration(name: "list", abstract: "List loaded plugins.")
        var output = FormatOptions()
        var connection = ConnectionOptions()
        static var arguments: [Argument<Self>] { [.group(\.output), .group(\.connection)] }

        func run() throws(CLIError) {
            let r = try connection.call(.listPlugins, ListPluginsRequest(), ListPluginsResponse.self)
            if output.json {
                Output.out(JSON.array(r.plugins.map { Rendering.pluginJSON($0, indent: "  ") }) + "\n")
            } else {
                Output.out(Rendering.pluginsTable(r.plugins))
            }
        }
    }

    struct LoadPlugin: ParsableCommand {
        static let configuration = CommandConfiguration(
            name: "load", abstract: "Load a plugin library into the daemon (admin).",
            discussion: "PLUGIN is a name found in the daemon's plugins directory (e.g. text), or a path on the\ndaemon's machine; relative paths are taken inside the plugins directory.")
        var output = FormatOptions()
        var plugin = ""
        var connection = ConnectionOptions()
        static var arguments: [Argument<Self>] { [.group(\.output), .argument("PLUGIN", \.plugin, .string), .group(\.connection)] }

        func run() throws(CLIError) {
            let r = try connection.call(.loadPlugin, LoadPluginRequest(path: plugin), LoadPluginResponse.self)
            let p = r.plugin ?? PluginInfo()
            if output.json { Output.out(Rendering.pluginJSON(p, indent: "") + "\n") } else {
                Output.out("loaded plugin \(p.name) \(p.version) (ABI \(p.abiVersion)) from \(p.path)\n")
            }
        }
    }

    struct ReloadPlugin: ParsableCommand {
        static let configuration = CommandConfiguration(
            name: "reload", abstract: "Hot-swap the models of a plugin (admin).",
            discussion: "Loads a new generation of every model served by PLUGIN (or only --model), switches calls to it\nwhen it is ready, and releases the old one after its calls finish. If loading fails, the old\ngeneration keeps serving and the command exits 1. --path loads the models from another build of\nthe plugin library.")
        var output = FormatOptions()
        var plugin: String?
        var path: String?
        var model: String?
        var connection = ConnectionOptions()
        static var arguments: [Argument<Self>] {
            [
                .group(\.output),
                .optionalArgument("PLUGIN", \.plugin, .string),
                .option("--path", value: "FILE", help: "plugin library to load the new generation from", \.path, .file),
                .option("--model", value: "NAME", help: "reload only this model", \.model, .model),
                .group(\.connection),
            ]
        }

        func validate() throws(CLIError) {
            if (plugin ?? "").isEmpty && model == nil { throw .usage("'embedctl plugins reload' needs PLUGIN or --model NAME") }
        }

        func run() throws(CLIError) {
            let r = try connection.call(.reloadPlugin, ReloadPluginRequest(plugin: plugin ?? "", path: path ?? "", model: model ?? ""),
                                        ReloadPluginResponse.self)
            if output.json {
                Output.out(JSON.array(r.models.map { Rendering.modelJSON($0, indent: "  ") }) + "\n")
            } else {
                for m in r.models { Output.out("reloaded \(m.name): generation \(m.generation), version \(m.version)\n") }
            }
        }
    }

    struct UnloadModel: ParsableCommand {
        static let configuration = CommandConfiguration(
            name: "unload", abstract: "Unload a model (admin); its calls in flight finish first.",
            discussion: """
            A model loaded with 'embedctl models load' is unloaded and its file in DATA_DIR/models.d
            removed: it does not come back at restart. A model of the configuration file stays unloaded
            until the daemon restarts or reloads (SIGHUP): remove it from that file to keep it away.
            """)
        var output = FormatOptions()
        var model = ""
        var connection = ConnectionOptions()
        static var arguments: [Argument<Self>] { [.group(\.output), .argument("MODEL", \.model, .model), .group(\.connection)] }

        func run() throws(CLIError) {
            let r = try connection.call(.unloadModel, UnloadModelRequest(name: model), UnloadModelResponse.self)
            if output.json {
                Output.out((r.model.map { Rendering.modelJSON($0, indent: "") } ?? "{}") + "\n")
                return
            }
            var text = "unloaded model \(model)\n"
            if let m = r.model {
                switch m.source {
                case "config":
                    text += "\(m.sourceFile.isEmpty ? "the configuration file" : m.sourceFile) still names it: it loads again at the next start or reload (SIGHUP); remove it there to keep it unloaded\n"
                case "models.d":
                    text += "removed \(m.sourceFile): it does not load again at restart\n"
                default: break
                }
            }
            Output.out(text)
        }
    }
}
