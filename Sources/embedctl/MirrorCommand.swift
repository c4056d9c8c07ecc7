import EmbedCLI
import EmbedClient
import EmbedSys
import EmbedWire

/// `embedctl collection mirror NAME milvus://HOST:PORT/NAME`: registers a mirror at the
/// collection's last write, exports a snapshot through `embedctl export`, and starts
/// `embedd-mirror` to stream the writes after it (docs/milvus.md, "Mirror"). `--status`,
/// `--stop`, `--remove` manage it.
struct MirrorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        name: "mirror", abstract: "Mirror a collection's writes into Milvus (register, export, start the mirror process).",
        discussion: """
        Registers a durable cursor at the collection's last write, copies the collection with
        `embedctl export` (unless --no-export), then starts embedd-mirror, which forwards every later
        upsert and delete in order. Under systemd, it tells you to enable embedd-mirror@NAME instead
        of starting a process. The daemon keeps the log the mirror has not forwarded, up to
        store.mirror_log_limit; past it the mirror is stale: export again and register with --reset.
        """)
    var output = FormatOptions()
    var name = ""
    var target: String?
    var prefix: String?
    var token: String?
    var create = false
    var reset = false
    var resume = false
    var noExport = false
    var noStart = false
    var status = false
    var stop = false
    var remove = false
    var connection = ConnectionOptions()

    static var arguments: [Argument<Self>] {
        [
            .group(\.output), .argument("NAME", \.name, .collection), .optionalArgument("URL", \.target, .string),
            .option("--prefix", value: "P", help: "put P before every key in Milvus (several machines into one collection)", \.prefix, .string),
            .option("--token", value: "T", help: "Milvus USER:PASSWORD or API key (passed to export and embedd-mirror)", \.token, .string),
            .flag("--create", help: "create the Milvus collection if it does not exist (export)", \.create),
            .flag("--reset", help: "move an existing (e.g. stale) mirror's cursor to the last write, then export again", \.reset),
            .flag("--resume", help: "pass --resume to the export (continue an interrupted one)", \.resume),
            .flag("--no-export", help: "register and start only: the Milvus collection already holds the records", \.noExport),
            .flag("--no-start", help: "do not start embedd-mirror", \.noStart),
            .flag("--status", help: "show the collection's mirrors and their lag", \.status),
            .flag("--stop", help: "stop the local embedd-mirror process (the cursor is kept)", \.stop),
            .flag("--remove", help: "stop it and forget the mirror (its retained log is freed)", \.remove),
            .group(\.connection),
        ]
    }

    func run() throws(CLIError) {
        if status { return try showStatus() }
        if stop || remove {
            stopProcess()
            if remove {
                let t = try onlyTarget()
                let client = try connection.connect()
                defer { client.close() }
                do { _ = try client.setMirror(name, target: t, action: .remove) } catch { throw .runtime(error.description) }
                Output.out("removed the mirror of \(name) to \(t)\n")
            }
            return
        }
        guard let target else { throw .usage("give the Milvus URL (milvus://HOST:PORT/COLLECTION), or --status, --stop or --remove") }
        guard target.hasPrefix("milvus://") else { throw .usage("the mirror target must be a milvus://HOST:PORT/COLLECTION URL, got \"\(target)\"") }
        let client = try connection.connect()
        let existing: MirrorInfo?
        let info: MirrorInfo?
        do {
            existing = try client.mirrors(name).first { $0.target == target }
            info = existing != nil && !reset ? existing
                : try client.setMirror(name, target: target, prefix: prefix ?? "", action: reset ? .reset : .register)
        } catch {
            client.close()
            throw .runtime(error.description)
        }
        client.close()
        if let existing, !reset {
            // Registered before (e.g. its export was interrupted and finished since): just start it.
            Output.out("the mirror of \(name) to \(target) is registered at sequence \(existing.sequence)"
                       + (existing.stale ? " and STALE: export again, then register with --reset" : "") + "\n")
            if existing.stale { throw .runtime("the mirror is stale") }
        } else {
            Output.out("registered the mirror of \(name) to \(target) at sequence \(info?.sequence ?? 0)\n")
            if !noExport { try export(target) }
        }
        if !noStart { try startProcess(target) }
    }

    /// The initial copy, by `embedctl export` (the cursor is already registered, so no write
    /// made meanwhile can be missed: the mirror replays them after the export).
    private func export(_ target: String) throws(CLIError) {
        var args = ["export", name, target, "--socket", connection.socketPath, "--no-count-check"]
        if let prefix, !prefix.isEmpty { args += ["--prefix", prefix] }
        if create { args.append("--create") }
        if resume { args.append("--resume") }
        if let token { args += ["--token", token] }
        let exe = (try? FileSystem.realPath("/proc/self/exe")) ?? "/usr/bin/embedctl"
        let exported: ChildProcess.Termination
        do { exported = try ChildProcess.spawn(exe, arguments: args).wait() } catch {
            throw .runtime("cannot run \(exe) export: \(error)")
        }
        guard exported == .exited(0) else {
            throw .runtime("the initial export failed; the mirror stays registered and the daemon keeps its log. Finish the export with "
                           + "`embedctl export \(name) \(target) --resume`, then start the mirror with `embedctl collection mirror \(name) \(target)`")
        }
    }

    /// The one mirror of the collection (for --remove without a URL).
    private func onlyTarget() throws(CLIError) -> String {
        if let target { return target }
        let client = try connection.connect()
        defer { client.close() }
        let list: [MirrorInfo]
        do { list = try client.mirrors(name) } catch { throw .runtime(error.description) }
        guard list.count == 1 else { throw .usage(list.isEmpty ? "collection \(name) has no mirror" : "collection \(name) has \(list.count) mirrors: give the URL") }
        return list[0].target
    }

    private func showStatus() throws(CLIError) {
        let client = try connection.connect()
        defer { client.close() }
        let list: [MirrorInfo]
        do { list = try client.mirrors(name) } catch { throw .runtime(error.description) }
        let pid = MirrorCommand.runningPID(name)
        if output.json {
            Output.out("{\"collection\": \(JSON.string(name)), \"process\": \(pid.map(String.init) ?? "null"), \"mirrors\": "
                       + JSON.array(list.map { MirrorRendering.mirrorJSON($0, indent: "  ") }) + "}\n")
            return
        }
        if list.isEmpty { Output.out("collection \(name) has no mirror\n") }
        for m in list { Output.out(MirrorRendering.line(m) + "\n") }
        if let pid { Output.out("embedd-mirror runs here as pid \(pid) (log: \(MirrorCommand.logPath(name)))\n") }
        else if MirrorCommand.underSystemd { Output.out("process: see `systemctl status embedd-mirror@\(name)`\n") }
        else { Output.out("no local embedd-mirror process for \(name)\n") }
    }

    // MARK: The background process

    static var underSystemd: Bool { FileSystem.isDirectory("/run/systemd/system") && Environment.get("EMBEDD_MIRROR_NO_SYSTEMD") == nil }

    static func runtimeDirectory() -> String {
        Environment.get("XDG_RUNTIME_DIR").flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
    }
    static func pidPath(_ name: String) -> String { runtimeDirectory() + "/embedd-mirror-\(name).pid" }
    static func logPath(_ name: String) -> String { runtimeDirectory() + "/embedd-mirror-\(name).log" }

    /// The pid in the pid file when that process still runs.
    static func runningPID(_ name: String) -> Int32? {
        guard let bytes = try? FileSystem.readFile(pidPath(name), limit: 64),
              let pid = Int32(String(decoding: bytes, as: UTF8.self).filter { $0.isNumber }), pid > 0, (try? Signals.send(0, to: pid)) != nil else { return nil }
        return pid
    }

    private func startProcess(_ target: String) throws(CLIError) {
        if MirrorCommand.underSystemd {
            Output.out("""
            start the mirror process with systemd (as root):
              systemctl enable --now embedd-mirror@\(name)
            with EMBEDD_MIRROR_TARGET=\(target)\(token == nil ? "" : " and MILVUS_TOKEN=…") in /etc/embedd/mirror/\(name).env
            (or run it here without systemd: EMBEDD_MIRROR_NO_SYSTEMD=1 embedctl collection mirror \(name) \(target) --no-export)

            """)
            return
        }
        if let pid = MirrorCommand.runningPID(name) { Output.out("embedd-mirror already runs for \(name) (pid \(pid))\n"); return }
        let here = ((try? FileSystem.realPath("/proc/self/exe")) ?? "/usr/bin/embedctl").split(separator: "/").dropLast().joined(separator: "/")
        let exe = FileSystem.isRegularFile("/" + here + "/embedd-mirror") ? "/" + here + "/embedd-mirror" : "/usr/bin/embedd-mirror"
        if let token { Environment.set("MILVUS_TOKEN", token) }
        let args = [exe, name, "--target", target, "--socket", connection.socketPath]
        let child: ChildProcess
        do {
            // setsid: the mirror outlives this terminal (no SIGHUP when it closes).
            child = FileSystem.isRegularFile("/usr/bin/setsid")
                ? try ChildProcess.spawn("/usr/bin/setsid", arguments: args, outputPath: MirrorCommand.logPath(name))
                : try ChildProcess.spawn(exe, arguments: Array(args.dropFirst()), outputPath: MirrorCommand.logPath(name))
        } catch { throw .runtime("cannot start \(exe): \(error)") }
        do {
            try FileSystem.replaceFile(MirrorCommand.pidPath(name), with: Array("\(child.pid)\n".utf8), temporary: MirrorCommand.pidPath(name) + ".tmp",
                                       directory: MirrorCommand.runtimeDirectory(), permissions: 0o644)
        } catch { throw .runtime("started embedd-mirror (pid \(child.pid)) but cannot write \(MirrorCommand.pidPath(name)): \(error)") }
        Output.out("started embedd-mirror for \(name) (pid \(child.pid), log \(MirrorCommand.logPath(name)))\n")
    }

    private func stopProcess() {
        if let pid = MirrorCommand.runningPID(name) {
            try? Signals.send(Signals.terminate, to: pid)
            try? FileSystem.unlink(MirrorCommand.pidPath(name))
            Output.out("stopped embedd-mirror for \(name) (pid \(pid)); its cursor is kept\n")
        } else if MirrorCommand.underSystemd {
            Output.out("no local embedd-mirror process for \(name); under systemd: systemctl disable --now embedd-mirror@\(name)\n")
        } else {
            Output.out("no local embedd-mirror process for \(name)\n")
        }
    }
}
