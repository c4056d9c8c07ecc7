import EmbedConfig
import EmbedPluginHost
import EmbedSys
import EmbedWire

/// `embedd`'s whole life: options, configuration, socket, models, event loop, shutdown.
///
/// Kept out of main.swift on purpose: top-level code there is `@MainActor`, and closures
/// created in it trap when run on the server's own threads (DESIGN §5).
public enum Daemon {
    /// GOMP_SPINCOUNT for the plugins' OpenMP runtime unless the environment sets it (or
    /// OMP_WAIT_POLICY): bench/text_bench.py gives the in-process peer the same.
    static let openMPSpinCount = "1000"

    /// Runs the daemon; returns the process exit status.
    public static func main(arguments: [String]) -> Int32 {
        let options: DaemonOptions
        do { options = try DaemonOptions(arguments: arguments) } catch {
            printError("embedd: \(error)\nTry 'embedd --help'.")
            return 2
        }
        if options.showHelp { print(DaemonOptions.usage); return 0 }
        if options.showVersion { print("embedd \(EmbeddVersion.string) (protocol \(ProtocolVersion.major).\(ProtocolVersion.minor))"); return 0 }
        if let path = options.checkConfigPath { return checkConfig(path) }

        // OpenMP (oneDNN's runtime, loaded with the model plugins) reads this when a plugin
        // loads it; set it now, while setenv is safe (no other thread yet). libgomp's workers
        // spin 300 000 rounds after every parallel region before sleeping: a core burnt after
        // each isolated call. 1000 rounds still bridge the gaps between one inference's regions,
        // which sleeping at once does not (figures: bench/NOTES.md, "Figures moved out of code comments").
        // A user's GOMP_SPINCOUNT or OMP_WAIT_POLICY wins. See docs/operations.md.
        if Environment.get("GOMP_SPINCOUNT") == nil && Environment.get("OMP_WAIT_POLICY") == nil {
            Environment.set("GOMP_SPINCOUNT", Daemon.openMPSpinCount)
        }

        // Before any thread exists (arenas are per thread): few arenas and a fixed 1 MiB mmap
        // threshold, so memory freed by requests and by retired model generations can go back
        // to the kernel. A user's MALLOC_* or GLIBC_TUNABLES wins. See docs/operations.md.
        Allocator.configureForDaemon(arenas: 2, mmapThreshold: 1 << 20)

        // Signals first: they must be blocked before any thread exists, so that every thread
        // inherits the mask and only the signalfd sees them.
        Signals.ignoreBrokenPipe()
        let signals: Signals
        do { signals = try Signals.blockAndCreate([Signals.terminate, Signals.interrupt, Signals.hangUp]) } catch {
            printError("embedd: cannot set up signal handling: \(error)")
            return 1
        }

        // Configuration.
        let cwd = Environment.workingDirectory
        var config = Config()
        var configPath = options.configPath
        if configPath == nil && FileSystem.exists("/etc/embedd/embedd.yaml") { configPath = "/etc/embedd/embedd.yaml" }
        if let path = configPath {
            do { config = try Config.load(path: Config.join(cwd, path)) } catch {
                printError("embedd: \(error)")
                return 1
            }
        }
        options.overrides.apply(to: &config, workingDirectory: cwd)
        let log = Logger(verbosity: config.logLevel)
        let notify = SdNotify()
        log.notice("embedd \(EmbeddVersion.string) starting (pid \(Environment.processID), config \(config.sourcePath ?? "built-in defaults"))")

        do { try FileSystem.makeDirectories(config.dataDirectory, permissions: 0o750) } catch {
            log.error("cannot create data directory \(config.dataDirectory): \(error)")
            return 1
        }

        // The listening socket: from systemd (socket activation) or our own.
        var ownedSocket: (path: String, identity: FileSystem.FileIdentity?)?
        var listeners: [FileDescriptor] = []
        let activated = SdNotify.listenDescriptors()
        if !activated.isEmpty {
            listeners = activated.filter(UnixSocket.isListeningUnixStream)
            // The others are left open: with a wrong LISTEN_FDS count they may be this
            // process's own descriptors (the signalfd opened above), not systemd's.
            let ignored = activated.filter { !listeners.contains($0) }
            if !ignored.isEmpty {
                log.warning("socket activation: ignoring descriptor(s) \(ignored.map { String($0.rawValue) }.joined(separator: ", ")): not listening Unix stream sockets")
            }
            for fd in listeners { try? fd.setCloseOnExec() }
            guard !listeners.isEmpty else {
                log.error("socket activation passed \(activated.count) descriptor(s) but none is a listening Unix stream socket")
                return 1
            }
            let paths = listeners.compactMap(UnixSocket.boundPath)
            log.notice("socket activation: listening on \(paths.joined(separator: ", "))")
            if let first = paths.first { config.socket.path = first }
        } else {
            switch openSocket(config, log: log) {
            case .failure(let message):
                log.error(message)
                return 1
            case .success(let fd):
                listeners = [fd]
                ownedSocket = (config.socket.path, try? FileSystem.identity(of: config.socket.path))
            }
        }

        let fileReads: WorkQueue
        do { fileReads = try WorkQueue(name: "embed-files", threads: 2) } catch {
            log.error("cannot start threads: \(error)")
            return 1
        }
        let shared = ServingState(limits: config.limits)
        let service = EmbedService(config: config, overrides: options.overrides, workingDirectory: cwd, log: log, notify: notify,
                                   shared: shared, fileReads: fileReads)
        // Embed runs on per-model batcher threads; the shared pool serves other compute methods.
        let computeThreads = 2
        let server: Server
        do {
            server = try Server(listeners: listeners, signals: signals, shared: shared, computeThreads: computeThreads,
                                notify: notify, log: log)
        } catch {
            log.error("cannot start the server: \(error)")
            return 1
        }
        server.serverName = "embedd/\(EmbeddVersion.string)"
        if let group = config.adminGroup {
            if let gid = UserDatabase.groupID(named: group) {
                shared.setAdminGroup(gid)
            } else {
                log.warning("admin_group \"\(group)\" does not exist: only uid 0 may call admin methods")
            }
        }
        service.install(on: server)
        // The vector store (collections under <data_dir>/collections) and its methods.
        let store: StoreService
        do { store = try StoreService(embed: service, log: log) } catch {
            log.error(error.message)
            return 1
        }
        store.install(on: server)
        MetricsService(embed: service, store: store, shared: shared).install(on: server)
        server.onReload = { [service, server] in server.runOnAdminThread { service.reload() } }
        server.wedged = { [service] now in
            service.dropExpiredWaiters(now: now)
            return service.wedgedModel(now: now).map { "model '\($0.model)': a plugin call has been running for \(Int($0.seconds)) s (limits.stuck_call_timeout \(Int(service.config.limits.stuckCallTimeoutSeconds)) s): the plugin is not returning" }
        }
        server.runOnAdminThread { [service, shared, log, notify] in
            service.loadConfiguredModels()
            shared.transition(from: .starting, to: .serving)
            let (ready, configured) = service.readyModels()
            log.notice("ready: \(ready) of \(configured) model(s) loaded, listening on \(service.config.socket.path)")
            notify.ready(status: "serving \(ready) of \(configured) model(s)")
        }

        // The stop is bounded: a plugin call that never returns must not hold it forever.
        let watchdog = StopWatchdog(log: log)
        let draining = "draining (calls in flight, then the server's worker threads)"
        server.onStop = { [service, watchdog] in watchdog.arm(seconds: service.config.limits.stopTimeoutSeconds, draining) }

        server.run()

        let bound = service.config.limits.stopTimeoutSeconds
        watchdog.arm(seconds: bound, draining)  // stopped without a signal
        log.notice("drained; releasing models")
        fileReads.stop()  // Embeds still reading their files join their batch before it stops
        watchdog.enter("waiting for the models' batcher threads (a plugin call that does not return?)")
        service.stopBatchers()
        watchdog.disarm()
        store.stop()  // our own code: a large final checkpoint may take long, and is not cut short
        watchdog.arm(seconds: bound, "releasing the models (a plugin's release_model that does not return?)")
        service.releaseModels()
        watchdog.disarm()
        if let owned = ownedSocket {
            // Remove the socket file only if it is still the one we created.
            if let id = owned.identity, (try? FileSystem.identity(of: owned.path)) == id { try? FileSystem.unlink(owned.path) }
        }
        log.notice("embedd stopped")
        return 0
    }

    /// `--check-config FILE`.
    static func checkConfig(_ path: String) -> Int32 {
        do {
            let c = try Config.load(path: path)
            print("\(path): OK (\(c.models.count) model(s)\(c.defaultModel.map { ", default \($0)" } ?? ""), socket \(c.socket.path))")
            return 0
        } catch {
            printError("\(error)")
            return 1
        }
    }

    enum SocketResult { case success(FileDescriptor), failure(String) }

    /// Creates the configured socket: refuses to replace a live one or a non-socket file,
    /// replaces a stale one, then applies mode and group.
    static func openSocket(_ config: Config, log: Logger) -> SocketResult {
        let path = config.socket.path
        guard path.utf8.count <= UnixSocket.maxPathBytes else {
            return .failure("socket path \(path) is \(path.utf8.count) bytes; Unix sockets allow at most \(UnixSocket.maxPathBytes)")
        }
        if let slash = path.lastIndex(of: "/"), slash != path.startIndex {
            let dir = String(path[..<slash])
            if !FileSystem.isDirectory(dir) {
                do { try FileSystem.makeDirectories(dir, permissions: 0o755) } catch {
                    return .failure("cannot create socket directory \(dir): \(error)")
                }
            }
        }
        switch UnixSocket.probe(path: path) {
        case .live:
            return .failure("another server is already listening on \(path); not touching it (stop it first, or use --socket)")
        case .notASocket:
            return .failure("\(path) exists and is not a socket; refusing to replace it")
        case .stale:
            log.notice("removing stale socket \(path) (nobody listens on it)")
            do { try FileSystem.unlink(path) } catch { return .failure("cannot remove stale socket \(path): \(error)") }
        case .absent:
            break
        }
        let fd: FileDescriptor
        // Created owner-only; group and the configured mode are applied below, in that order,
        // so the file is never open to more than the configuration says.
        do { fd = try UnixSocket.listen(path: path, backlog: 512, createMode: config.socket.mode & 0o700) } catch {
            return .failure("cannot listen on \(path): \(error)")
        }
        if let group = config.socket.group {
            if let gid = UserDatabase.groupID(named: group) {
                do { try UserDatabase.changeGroup(path: path, to: gid) } catch {
                    log.warning("cannot give \(path) to group \(group): \(error); it keeps the daemon's group")
                }
            } else {
                log.warning("socket group \"\(group)\" does not exist; \(path) keeps the daemon's group")
            }
        }
        do { try UserDatabase.changeMode(path: path, to: config.socket.mode) } catch {
            try? fd.close()
            return .failure("cannot set mode \(String(config.socket.mode, radix: 8)) on \(path): \(error)")
        }
        log.info("listening on \(path) (mode \(String(config.socket.mode, radix: 8)))")
        return .success(fd)
    }

    static func printError(_ s: String) {
        try? FileDescriptor.standardError.writeAll(Array((s + "\n").utf8))
    }
}

extension Daemon {
    /// Runs the daemon and exits the process with its status.
    public static func runAndExit(arguments: [String]) -> Never {
        Environment.exit(main(arguments: arguments))
    }
}
