import Testing
@testable import EmbedConfig
import EmbedSys

@Suite struct ConfigTests {
    static let repoRoot: String = {
        var parts = "\(#filePath)".split(separator: "/").dropLast(3)
        return "/" + parts.joined(separator: "/")
    }()

    func parse(_ text: String, file: String = "test.yaml") throws(ConfigError) -> Config {
        try Config.parse(Array(text.utf8), fileName: file, baseDirectory: "/base")
    }

    func expectError(_ text: String, line: Int, column: Int, containing: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try parse(text)
            Issue.record("expected an error containing \"\(containing)\"", sourceLocation: sourceLocation)
        } catch {
            #expect(error.line == line && error.column == column, "\(error)", sourceLocation: sourceLocation)
            #expect(error.message.contains(containing), "\(error)", sourceLocation: sourceLocation)
            #expect(error.description.hasPrefix("test.yaml:\(line):\(column): "), sourceLocation: sourceLocation)
        }
    }

    @Test func documentedDefaultFileParses() throws {
        let c = try Config.load(path: Self.repoRoot + "/etc/embedd/embedd.yaml")
        #expect(c.socket.path == "/run/embedd/embedd.sock")
        #expect(c.socket.mode == 0o660 && c.socket.group == "embedd")
        #expect(c.adminGroup == "embedd-admin")
        #expect(c.models.map(\.name) == ["all-MiniLM-L6-v2", "all-mpnet-base-v2"])
        #expect(c.models.allSatisfy { $0.plugin == "text" })
        #expect(c.defaultModel == "all-MiniLM-L6-v2")
        #expect(c.resolvedModelDirectory(c.models[0]) == "/var/lib/embedd/models/all-MiniLM-L6-v2")
        #expect(c.limits.maxFrameBytes == 64 << 20 && c.limits.idleTimeoutSeconds == 300)
        #expect(c.batching.maxDelayMilliseconds == 2)
        // The file documents the built-in defaults for everything but the socket group/admin group.
        var builtIn = Config()
        builtIn.socket.group = "embedd"
        builtIn.adminGroup = "embedd-admin"
        builtIn.models = c.models
        builtIn.sourcePath = c.sourcePath
        #expect(c == builtIn)
    }

    @Test func emptyFileGivesDefaults() throws {
        #expect(try parse("") == Config())
        #expect(try parse("# only a comment\n") == Config())
        #expect(try parse("~") == Config())
    }

    @Test func valuesAndUnits() throws {
        let c = try parse("""
        socket: { path: run/e.sock, mode: 600 }
        data_dir: ./data
        models_dir: ../models
        log_level: DEBUG
        limits:
          max_frame_bytes: 1_048_576
          idle_timeout: 250ms
          call_deadline: 2m
          drain_timeout: 0
        batching: { max_delay: 0.5, threads_per_model: 2, compute_nice: 0 }
        models:
          - name: fx
            plugin: /opt/p/libembedd-fixture.so
            options: { dimension: 8, seed: "42", normalize: true }
          - { name: b, plugin: text, model_dir: /abs/b, default: yes }
        """)
        #expect(c.socket.path == "/base/run/e.sock" && c.socket.mode == 0o600)
        #expect(c.dataDirectory == "/base/data" && c.modelsDirectory == "/models")
        #expect(c.logLevel == .debug)
        #expect(c.limits.maxFrameBytes == 1 << 20 && c.limits.idleTimeoutSeconds == 0.25)
        #expect(c.limits.callDeadlineSeconds == 120 && c.limits.drainTimeoutSeconds == 0 && c.limits.stopTimeoutSeconds == 40)
        #expect(try parse("limits: {drain_timeout: 1m, stop_timeout: 90s}").limits.stopTimeoutSeconds == 90)
        #expect(try parse("limits: {drain_timeout: 50s}").limits.stopTimeoutSeconds == 60, "unset, it follows a long drain")
        #expect(try parse("limits: {stuck_call_timeout: 90s}").limits.stuckCallTimeoutSeconds == 90)
        #expect(c.limits.stuckCallTimeoutSeconds == 300)
        #expect(try parse("limits: {call_deadline: 10m}").limits.stuckCallTimeoutSeconds == 1200, "unset, it follows a long deadline")
        #expect(c.batching.maxDelayMilliseconds == 500 && c.batching.threadsPerModel == 2 && c.batching.computeNice == 0)
        #expect(try parse("batching: {compute_nice: 19}").batching.computeNice == 19)
        #expect(try parse("").batching.computeNice == 5)
        #expect(c.models[0] == ModelConfig(name: "fx", plugin: "/opt/p/libembedd-fixture.so", modelDirectory: "fx",
                                           options: ["dimension": "8", "seed": "42", "normalize": "true"]))
        #expect(c.defaultModel == "b")
        #expect(c.resolvedModelDirectory(c.models[1]) == "/abs/b")
        #expect(try parse("limits: {max_frame_bytes: 16MiB}").limits.maxFrameBytes == 16 << 20)
        #expect(c.limits.busyPollSeconds == 0.000_150)
        #expect(try parse("limits: {busy_poll: 0}").limits.busyPollSeconds == 0)
        #expect(try parse("limits: {busy_poll: 400us}").limits.busyPollSeconds == 0.000_4)
        #expect(try parse("limits: {busy_poll: \"80 µs\"}").limits.busyPollSeconds == 0.000_08)
        #expect(try parse("limits: {busy_poll: 2ms}").limits.busyPollSeconds == 0.002)
        // Hardening limits (issue 17): defaults, explicit values, and the reserve that follows
        // a small max_connections unless it is set.
        let hardened = try parse("""
        limits: {max_connections_per_uid: 4, reserved_connections: 3, frame_timeout: 2s, max_buffered_bytes: 32MiB, max_descriptors_per_call: 9}
        """).limits
        #expect(hardened.maxConnectionsPerUID == 4 && hardened.reservedConnections == 3 && hardened.frameTimeoutSeconds == 2)
        #expect(hardened.maxBufferedBytes == 32 << 20 && hardened.maxDescriptorsPerCall == 9)
        let defaults = try parse("").limits
        #expect(defaults.maxConnectionsPerUID == 64 && defaults.reservedConnections == 8 && defaults.frameTimeoutSeconds == 30)
        #expect(defaults.maxBufferedBytes == 256 << 20 && defaults.maxDescriptorsPerCall == 64)
        #expect(try parse("limits: {max_connections: 3}").limits.reservedConnections == 0)
        #expect(try parse("limits: {max_connections: 20}").limits.reservedConnections == 5)
        let store = try parse("""
        store:
          verify_on_open: full
          checkpoint_log_size: 64MiB
          max_unindexed: 10_000
          compaction_min_deleted: 0
          compaction_deleted_fraction: 0.5
          rerank_factor: 4
          quantized_search: false
          mirror_log_limit: 1GiB
        """).store
        #expect(store.verifyOnOpen == .full && store.checkpointLogBytes == 64 << 20 && store.maxUnindexed == 10_000)
        #expect(store.compactionMinDeleted == 0 && store.compactionDeletedFraction == 0.5)
        #expect(store.rerankFactor == 4 && store.quantizedSearch == false && store.mirrorLogBytes == 1 << 30)
        #expect(try parse("store: {rerank_factor: 3}").store.verifyOnOpen == nil, "unset store fields keep the store's defaults")
    }

    @Test func errorsNameLineAndColumn() {
        expectError("socket:\n  path: /x\n  mdoe: \"0660\"\n", line: 3, column: 3, containing: "unknown setting \"mdoe\" in socket")
        expectError("limits:\n  idle_timeout: soon\n", line: 2, column: 17, containing: "limits.idle_timeout must be a duration")
        expectError("limits:\n  idle_timeout: 1e-12\n", line: 2, column: 17, containing: "limits.idle_timeout must be at least 100 ms")
        expectError("limits:\n  call_deadline: 0.0001\n", line: 2, column: 18, containing: "limits.call_deadline must be at least 1 ms")
        expectError("limits:\n  max_connections: 0\n", line: 2, column: 20, containing: "between 1 and 65536")
        expectError("limits:\n  stuck_call_timeout: 30s\n", line: 2, column: 3,
                    containing: "limits.stuck_call_timeout (30.0 s) must be longer than limits.call_deadline (60.0 s)")
        expectError("limits:\n  drain_timeout: 30s\n  stop_timeout: 10s\n", line: 2, column: 3,
                    containing: "limits.stop_timeout (10.0 s) must be longer than limits.drain_timeout (30.0 s)")
        expectError("limits:\n  max_connections: 4\n  reserved_connections: 4\n", line: 2, column: 3,
                    containing: "limits.reserved_connections (4) must be below limits.max_connections (4)")
        expectError("limits:\n  max_descriptors_per_call: 254\n", line: 2, column: 29, containing: "max_descriptors_per_call")
        expectError("limits:\n  busy_poll: 20ms\n", line: 2, column: 14, containing: "limits.busy_poll is at most 10ms")
        expectError("limits:\n  busy_poll: -1us\n", line: 2, column: 14, containing: "limits.busy_poll must be zero or positive")
        expectError("batching:\n  compute_nice: -5\n", line: 2, column: 17, containing: "batching.compute_nice")
        expectError("batching:\n  compute_nice: 20\n", line: 2, column: 17, containing: "batching.compute_nice")
        expectError("socket:\n  mode: \"0999\"\n", line: 2, column: 9, containing: "octal")
        expectError("log_level: loud\n", line: 1, column: 12, containing: "log_level must be one of")
        expectError("models:\n  - name: a\n    plugin: text\n  - name: a\n    plugin: text\n", line: 4, column: 5,
                    containing: "configured twice (first at line 2)")
        expectError("models:\n  - plugin: text\n", line: 2, column: 5, containing: "has no name")
        expectError("models:\n  - name: a\n", line: 2, column: 5, containing: "model \"a\" has no plugin")
        expectError("models: text\n", line: 1, column: 9, containing: "models must be a list")
        expectError("models:\n  - {name: a, plugin: t, default: true}\n  - {name: b, plugin: t, default: true}\n", line: 3, column: 5,
                    containing: "only one model can be the default")
        expectError("models:\n  - {name: a, plugin: t, truncate: sometimes}\n", line: 2, column: 36, containing: "truncate")
        expectError("store:\n  compaction_deleted_fraction: 1.5\n", line: 2, column: 32, containing: "between 0 and 1")
        expectError("store:\n  verify_on_open: sometimes\n", line: 2, column: 19, containing: "full, background, header")
        expectError("store:\n  rerank_factor: 0\n", line: 2, column: 18, containing: "store.rerank_factor must be between 1 and 1000")
        expectError("store:\n  checkpoint_log_size: 1KiB\n", line: 2, column: 24, containing: "store.checkpoint_log_size must be between")
        expectError("store:\n  rerank: 2\n", line: 2, column: 3, containing: "unknown setting \"rerank\" in store")
        expectError("socket: [1, 2]\n", line: 1, column: 9, containing: "socket must be a mapping")
        expectError("data_dir: /a\ndata_dir: /b\n", line: 2, column: 1, containing: "appears twice")
        expectError("socket:\n  path: /\(String(repeating: "x", count: 120))\n", line: 2, column: 9, containing: "at most 107")
        expectError("models:\n  - {name: a, plugin: t, options: {k: [1]}}\n", line: 2, column: 39, containing: "must be a single value")
    }

    @Test func syntaxErrorsArePositioned() {
        do {
            _ = try parse("socket:\n  path: [unclosed\n")
            Issue.record("expected a syntax error")
        } catch {
            #expect(error.message.hasPrefix("YAML syntax error"))
            #expect(error.line >= 2)
        }
        expectError("a: &x 1\nb: *x\n", line: 1, column: 4, containing: "anchors")
        expectError("---\na: 1\n---\nb: 2\n", line: 3, column: 1, containing: "only one YAML document")
        // 40 000 nested lists once overflowed the stack releasing the tree (a SIGHUP crash).
        expectError("store: " + String(repeating: "[", count: 40_000) + "\n", line: 1, column: 8 + YAMLParser.maxDepth - 1,
                    containing: "nesting deeper than 64 levels")
        // Encoding errors come from libyaml's reader with a byte offset: still line and column.
        do {
            _ = try YAMLParser.parse(Array("a: 1\nb: \"ok\" \u{E9}".utf8).dropLast(1) + [0xFF, 0x0A], fileName: "bad8.yaml")
            Issue.record("expected an encoding error")
        } catch {
            #expect(error.line == 2 && error.column == 10, "\(error)")  // the byte that breaks the "é"
        }
    }

    @Test func missingFileIsAClearError() {
        do {
            _ = try Config.load(path: "/nonexistent/embedd.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "/nonexistent/embedd.yaml: cannot read the configuration file: No such file or directory")
        }
    }

    @Test func overridesWin() throws {
        var c = try parse("socket: {path: /run/x.sock}\ndata_dir: /d\n")
        var o = ConfigOverrides()
        o.socketPath = "tmp/s.sock"
        o.dataDirectory = "/data"
        o.pluginsDirectory = "p"
        o.modelsDirectory = "/m"
        o.logLevel = .warning
        o.apply(to: &c, workingDirectory: "/work")
        #expect(c.socket.path == "/work/tmp/s.sock" && c.dataDirectory == "/data" && c.pluginsDirectory == "/work/p")
        #expect(c.modelsDirectory == "/m" && c.logLevel == .warning)
    }

    @Test func pathJoin() {
        #expect(Config.join("/a/b", "c") == "/a/b/c")
        #expect(Config.join("/a/b", "../c/./d") == "/a/c/d")
        #expect(Config.join("/a", "/abs") == "/abs")
    }
}

@Suite struct HTTPSectionTests {
    func parse(_ text: String) throws(ConfigError) -> Config {
        try Config.parse(Array(text.utf8), fileName: "test.yaml", baseDirectory: "/base")
    }

    @Test func theHTTPSectionParses() throws {
        let c = try parse("""
        http:
          listen: ["127.0.0.1:8080", "[::1]:8081", unix:run/http.sock]
          api_keys: keys
          no_auth: false
          max_connections: 10
          max_body: 1MiB
          request_timeout: 500ms
          idle_timeout: 2m
        """)
        #expect(c.http.listen == [.tcp(TCPEndpoint(host: "127.0.0.1", port: 8080)), .tcp(TCPEndpoint(host: "::1", port: 8081)),
                                  .unix("/base/run/http.sock")])
        #expect(c.http.apiKeysFile == "/base/keys")
        #expect(c.http.maxConnections == 10 && c.http.maxBodyBytes == 1 << 20)
        #expect(c.http.requestTimeoutSeconds == 0.5 && c.http.idleTimeoutSeconds == 120)
        #expect(try parse("http:\n  listen: localhost:9000\n").http.listen == [.tcp(TCPEndpoint(host: "localhost", port: 9000))])
        #expect(try parse("http: {no_auth: yes}").http.noAuth)
        #expect(try parse("") .http == HTTPSettings())
    }

    @Test func badHTTPSettingsNameTheirPlace() {
        let cases: [(String, Int, Int, String)] = [
            ("http:\n  listen: example.com:80\n", 2, 11, "is not HOST:PORT"),
            ("http:\n  listen: [\"127.0.0.1:80\", \"127.0.0.1:80\"]\n", 2, 28, "twice"),
            ("http:\n  listen: 127.0.0.1:99999\n", 2, 11, "is not HOST:PORT"),
            ("http:\n  max_connections: 0\n", 2, 20, "between"),
            ("http:\n  max_body: lots\n", 2, 13, "size"),
            ("http:\n  idle_timeout: -1\n", 2, 17, "positive"),
            ("http:\n  listen_on: x\n", 2, 3, "unknown setting \"listen_on\" in http"),
        ]
        for (text, line, column, containing) in cases {
            do {
                _ = try parse(text)
                Issue.record("expected an error for \(text.debugDescription)")
            } catch {
                #expect(error.line == line && error.column == column && error.message.contains(containing), "\(error)")
            }
        }
    }
}
