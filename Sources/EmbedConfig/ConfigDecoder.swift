/// Walks a `YAMLNode` tree into a `Config`, checking types, ranges and unknown keys.
///
/// Unknown keys are errors, not warnings: a misspelt `idle_timout` silently ignored is the
/// kind of bug that costs an operator an afternoon.
struct ConfigDecoder {
    let file: String
    let base: String

    init(file: String, base: String) {
        self.file = file
        self.base = base
    }

    func error(_ node: YAMLNode, _ message: String) -> ConfigError {
        ConfigError(file: file, line: node.mark.line, column: node.mark.column, message: message)
    }

    mutating func decode(_ root: YAMLNode) throws(ConfigError) -> Config {
        var config = Config()
        if root.isNull { return config }
        try forEachEntry(root, section: "the top level", allowed: [
            "socket", "admin_group", "data_dir", "plugins_dir", "models_dir", "log_level", "limits", "batching", "store", "models", "http",
        ]) { (key, value) throws(ConfigError) in
            switch key {
            case "socket": try decodeSocket(value, into: &config.socket)
            case "admin_group": config.adminGroup = value.isNull ? nil : try name(value, "admin_group")
            case "data_dir": config.dataDirectory = try path(value, "data_dir")
            case "plugins_dir": config.pluginsDirectory = try path(value, "plugins_dir")
            case "models_dir": config.modelsDirectory = try path(value, "models_dir")
            case "log_level":
                let s = try string(value, "log_level")
                guard let v = Verbosity(name: s) else {
                    throw error(value, "log_level must be one of error, warning, notice, info, debug (got \"\(s)\")")
                }
                config.logLevel = v
            case "limits": try decodeLimits(value, into: &config.limits)
            case "batching": try decodeBatching(value, into: &config.batching)
            case "store": try decodeStore(value, into: &config.store)
            case "models": config.models = try decodeModels(value)
            case "http": try decodeHTTP(value, into: &config.http)
            default: break
            }
        }
        return config
    }

    // MARK: Sections

    func decodeSocket(_ node: YAMLNode, into s: inout SocketConfig) throws(ConfigError) {
        try forEachEntry(node, section: "socket", allowed: ["path", "mode", "group"]) { (key, value) throws(ConfigError) in
            switch key {
            case "path":
                let p = try path(value, "socket.path")
                guard p.utf8.count <= 107 else {
                    throw error(value, "socket.path is \(p.utf8.count) bytes long; a Unix socket path can have at most 107")
                }
                s.path = p
            case "mode":
                let text = try string(value, "socket.mode")
                guard !text.isEmpty, text.count <= 4, let m = UInt32(text, radix: 8), m <= 0o777 else {
                    throw error(value, "socket.mode must be octal permission bits such as \"0660\" (got \"\(text)\")")
                }
                s.mode = m
            case "group": s.group = value.isNull ? nil : try name(value, "socket.group")
            default: break
            }
        }
    }

    func decodeHTTP(_ node: YAMLNode, into h: inout HTTPSettings) throws(ConfigError) {
        try forEachEntry(node, section: "http", allowed: [
            "listen", "api_keys", "no_auth", "max_connections", "max_body", "request_timeout", "idle_timeout",
        ]) { (key, value) throws(ConfigError) in
            switch key {
            case "listen":
                // One address or a list of them.
                let items: [YAMLNode]
                if case .sequence(let list, _) = value { items = list } else { items = value.isNull ? [] : [value] }
                h.listen = []
                for item in items {
                    let text = try string(item, "http.listen")
                    guard var address = HTTPListenAddress(parsing: text) else {
                        throw error(item, "http.listen entry \"\(text)\" is not \(HTTPListenAddress.syntaxHelp)")
                    }
                    if case .unix(let p) = address { address = .unix(Config.join(base, p)) }
                    guard !h.listen.contains(address) else { throw error(item, "http.listen names \(text) twice") }
                    h.listen.append(address)
                }
            case "api_keys": h.apiKeysFile = value.isNull ? nil : try path(value, "http.api_keys")
            case "no_auth": h.noAuth = try bool(value, "http.no_auth")
            case "max_connections": h.maxConnections = try integer(value, "http.max_connections", min: 1, max: 65536)
            case "max_body": h.maxBodyBytes = try size(value, "http.max_body", min: 1024, max: 1 << 30)
            case "request_timeout": h.requestTimeoutSeconds = try duration(value, "http.request_timeout", minimum: 0.01)
            case "idle_timeout": h.idleTimeoutSeconds = try duration(value, "http.idle_timeout", minimum: 0.01)
            default: break
            }
        }
    }

    func decodeLimits(_ node: YAMLNode, into l: inout Limits) throws(ConfigError) {
        try forEachEntry(node, section: "limits", allowed: [
            "max_frame_bytes", "max_connections", "max_calls_per_connection", "idle_timeout", "call_deadline",
            "drain_timeout", "stop_timeout", "stuck_call_timeout", "max_inputs_per_call", "busy_poll",
            "max_connections_per_uid", "reserved_connections", "frame_timeout", "max_buffered_bytes", "max_descriptors_per_call",
        ]) { (key, value) throws(ConfigError) in
            switch key {
            case "max_frame_bytes": l.maxFrameBytes = try size(value, "limits.max_frame_bytes", min: 1024, max: 1 << 30)
            case "max_connections": l.maxConnections = try integer(value, "limits.max_connections", min: 1, max: 65536)
            case "max_connections_per_uid":
                l.maxConnectionsPerUID = try integer(value, "limits.max_connections_per_uid", min: 1, max: 65536)
            case "reserved_connections": l.reservedConnectionsSetting = try integer(value, "limits.reserved_connections", min: 0, max: 65536)
            case "frame_timeout": l.frameTimeoutSeconds = try duration(value, "limits.frame_timeout", minimum: 0.1)
            case "max_buffered_bytes": l.maxBufferedBytes = try size(value, "limits.max_buffered_bytes", min: 1 << 20, max: 1 << 40)
            case "max_descriptors_per_call":
                l.maxDescriptorsPerCall = try integer(value, "limits.max_descriptors_per_call", min: 0, max: 253)
            case "max_calls_per_connection":
                l.maxCallsPerConnection = try integer(value, "limits.max_calls_per_connection", min: 1, max: 65536)
            case "idle_timeout": l.idleTimeoutSeconds = try duration(value, "limits.idle_timeout", minimum: 0.1)
            case "call_deadline": l.callDeadlineSeconds = try duration(value, "limits.call_deadline")
            case "drain_timeout": l.drainTimeoutSeconds = try duration(value, "limits.drain_timeout", allowZero: true)
            case "stuck_call_timeout": l.stuckCallTimeoutSetting = try duration(value, "limits.stuck_call_timeout", minimum: 0.1)
            case "stop_timeout": l.stopTimeoutSetting = try duration(value, "limits.stop_timeout", minimum: 0.1)
            case "max_inputs_per_call": l.maxInputsPerCall = try integer(value, "limits.max_inputs_per_call", min: 1, max: 1 << 20)
            case "busy_poll":
                let v = try duration(value, "limits.busy_poll", allowZero: true, minimum: 0.000_001)
                guard v <= 0.01 else {
                    throw error(value, "limits.busy_poll is at most 10ms: it is spent spinning on a CPU (got \((try? string(value, "")) ?? "?"))")
                }
                l.busyPollSeconds = v
            default: break
            }
        }
        if let stuck = l.stuckCallTimeoutSetting, stuck <= l.callDeadlineSeconds {
            throw error(node, "limits.stuck_call_timeout (\(stuck) s) must be longer than limits.call_deadline (\(l.callDeadlineSeconds) s): a call is only cancelled at its deadline")
        }
        if let reserved = l.reservedConnectionsSetting, reserved >= l.maxConnections {
            throw error(node, "limits.reserved_connections (\(l.reservedConnections)) must be below limits.max_connections (\(l.maxConnections)): the reserved slots are for admins, the rest for everyone")
        }
        if let stop = l.stopTimeoutSetting, stop <= l.drainTimeoutSeconds {
            throw error(node, "limits.stop_timeout (\(l.stopTimeoutSeconds) s) must be longer than limits.drain_timeout (\(l.drainTimeoutSeconds) s): the stop includes the drain")
        }
    }

    func decodeBatching(_ node: YAMLNode, into b: inout Batching) throws(ConfigError) {
        try forEachEntry(node, section: "batching", allowed: ["max_batch", "max_delay", "queue_depth", "threads_per_model", "compute_nice"]) {
            (key, value) throws(ConfigError) in
            switch key {
            case "max_batch": b.maxBatch = try integer(value, "batching.max_batch", min: 0, max: 1 << 16)
            case "max_delay": b.maxDelayMilliseconds = try duration(value, "batching.max_delay", allowZero: true, minimum: 0.000001) * 1000
            case "queue_depth": b.queueDepth = try integer(value, "batching.queue_depth", min: 1, max: 1 << 24)
            case "threads_per_model": b.threadsPerModel = try integer(value, "batching.threads_per_model", min: 1, max: 256)
            case "compute_nice": b.computeNice = try integer(value, "batching.compute_nice", min: 0, max: 19)
            default: break
            }
        }
    }

    func decodeStore(_ node: YAMLNode, into s: inout StoreSettings) throws(ConfigError) {
        try forEachEntry(node, section: "store", allowed: [
            "verify_on_open", "checkpoint_log_size", "max_unindexed", "compaction_min_deleted", "compaction_deleted_fraction",
            "rerank_factor", "quantized_search", "mirror_log_limit",
        ]) { (key, value) throws(ConfigError) in
            switch key {
            case "verify_on_open":
                let v = try string(value, "store.verify_on_open")
                guard let mode = StoreSettings.Verification(rawValue: v) else {
                    throw error(value, "store.verify_on_open must be one of full, background, header (got \"\(v)\")")
                }
                s.verifyOnOpen = mode
            case "checkpoint_log_size":
                s.checkpointLogBytes = try size(value, "store.checkpoint_log_size", min: 1 << 20, max: 1 << 40)
            case "mirror_log_limit":
                s.mirrorLogBytes = try size(value, "store.mirror_log_limit", min: 0, max: 1 << 50)
            case "max_unindexed": s.maxUnindexed = try integer(value, "store.max_unindexed", min: 1, max: 1 << 30)
            case "compaction_min_deleted":
                s.compactionMinDeleted = try integer(value, "store.compaction_min_deleted", min: 0, max: Int(Int32.max))
            case "compaction_deleted_fraction":
                s.compactionDeletedFraction = try fraction(value, "store.compaction_deleted_fraction")
            case "rerank_factor": s.rerankFactor = try integer(value, "store.rerank_factor", min: 1, max: 1000)
            case "quantized_search": s.quantizedSearch = try bool(value, "store.quantized_search")
            default: break
            }
        }
    }

    func decodeModels(_ node: YAMLNode) throws(ConfigError) -> [ModelConfig] {
        if node.isNull { return [] }
        guard case .sequence(let items, _) = node else {
            throw error(node, "models must be a list of models (each with name, plugin, model_dir), not \(node.kindName)")
        }
        var models: [ModelConfig] = []
        var seen: [String: YAMLNode.Mark] = [:]
        var defaultAt: YAMLNode.Mark?
        for item in items {
            let model = try decodeModel(item, section: "a model entry", allowed: ["name", "plugin", "model_dir", "options", "default", "truncate"])
            let name = model.name
            if let first = seen[name] {
                throw error(item, "model \"\(name)\" is configured twice (first at line \(first.line))")
            }
            seen[name] = item.mark
            if model.isDefault {
                if let d = defaultAt { throw error(item, "only one model can be the default (another is marked at line \(d.line))") }
                defaultAt = item.mark
            }
            models.append(model)
        }
        return models
    }

    /// One model: an item of `models:`, or a whole file of `DATA_DIR/models.d` (`ModelFile`),
    /// whose `allowed` keys leave out `default`.
    func decodeModel(_ item: YAMLNode, section: String, allowed: [String]) throws(ConfigError) -> ModelConfig {
        var name: String?
        var plugin: String?
        var dir: String?
        var options: [String: String] = [:]
        var isDefault = false
        var truncate = true
        try forEachEntry(item, section: section, allowed: allowed) { (key, value) throws(ConfigError) in
            switch key {
            case "name": name = try self.name(value, "model name")
            case "plugin": plugin = try self.name(value, "plugin")
            case "model_dir": dir = try string(value, "model_dir")
            case "default": isDefault = try bool(value, "default")
            case "truncate": truncate = try bool(value, "truncate")
            case "options":
                if value.isNull { break }
                guard case .mapping(let entries, _) = value else {
                    throw error(value, "options must be a mapping of option names to values, not \(value.kindName)")
                }
                for (k, v) in entries {
                    let optionName = try string(k, "option name")
                    guard case .scalar(let text, _, _) = v else {
                        throw error(v, "option \"\(optionName)\" must be a single value, not \(v.kindName)")
                    }
                    if options[optionName] != nil { throw error(k, "option \"\(optionName)\" appears twice") }
                    options[optionName] = text
                }
            default: break
            }
        }
        guard let name else { throw error(item, "\(section == "a model entry" ? "this model entry" : section) has no name") }
        guard let plugin else { throw error(item, "model \"\(name)\" has no plugin") }
        return ModelConfig(name: name, plugin: plugin, modelDirectory: dir ?? name, options: options, isDefault: isDefault, truncate: truncate)
    }

    // MARK: Scalars

    func forEachEntry(_ node: YAMLNode, section: String, allowed: [String],
                      _ body: (String, YAMLNode) throws(ConfigError) -> Void) throws(ConfigError) {
        if node.isNull { return }
        guard case .mapping(let entries, _) = node else {
            throw error(node, "\(section) must be a mapping of settings, not \(node.kindName)")
        }
        var seen: Set<String> = []
        for (k, v) in entries {
            let key = try string(k, "key")
            guard allowed.contains(key) else {
                throw error(k, "unknown setting \"\(key)\" in \(section) (allowed: \(allowed.joined(separator: ", ")))")
            }
            guard seen.insert(key).inserted else { throw error(k, "setting \"\(key)\" appears twice in \(section)") }
            try body(key, v)
        }
    }

    func string(_ node: YAMLNode, _ what: String) throws(ConfigError) -> String {
        guard case .scalar(let s, _, _) = node else { throw error(node, "\(what) must be a single value, not \(node.kindName)") }
        return s
    }

    func name(_ node: YAMLNode, _ what: String) throws(ConfigError) -> String {
        let s = try string(node, what)
        guard !s.isEmpty, !node.isNull else { throw error(node, "\(what) must not be empty") }
        guard !s.contains(where: { $0.isWhitespace || $0.asciiValue.map { $0 < 32 } == true }) else {
            throw error(node, "\(what) must not contain spaces or control characters (got \"\(s)\")")
        }
        return s
    }

    func path(_ node: YAMLNode, _ what: String) throws(ConfigError) -> String {
        let s = try string(node, what)
        guard !s.isEmpty, !node.isNull else { throw error(node, "\(what) must not be empty") }
        guard !s.utf8.contains(0) else { throw error(node, "\(what) contains a NUL byte") }
        return Config.join(base, s)
    }

    func bool(_ node: YAMLNode, _ what: String) throws(ConfigError) -> Bool {
        switch try string(node, what) {
        case "true", "True", "TRUE", "yes", "on": return true
        case "false", "False", "FALSE", "no", "off": return false
        case let s: throw error(node, "\(what) must be true or false (got \"\(s)\")")
        }
    }

    func integer(_ node: YAMLNode, _ what: String, min: Int, max: Int) throws(ConfigError) -> Int {
        let s = try string(node, what)
        guard let v = Int(s.replacingUnderscores()) else { throw error(node, "\(what) must be a whole number (got \"\(s)\")") }
        guard v >= min, v <= max else { throw error(node, "\(what) must be between \(min) and \(max) (got \(v))") }
        return v
    }

    /// A number from 0 to 1 (`0.3`).
    func fraction(_ node: YAMLNode, _ what: String) throws(ConfigError) -> Double {
        let s = try string(node, what).trimmingSpaces()
        guard let v = Double(s), v.isFinite else { throw error(node, "\(what) must be a number from 0 to 1 such as 0.3 (got \"\(s)\")") }
        guard v >= 0, v <= 1 else { throw error(node, "\(what) must be between 0 and 1 (got \(s))") }
        return v
    }

    /// Accepts a byte count or a number with a unit: `64MiB`, `512KiB`, `1GiB`, `16MB`, `1000B`.
    func size(_ node: YAMLNode, _ what: String, min: Int, max: Int) throws(ConfigError) -> Int {
        let s = try string(node, what).replacingUnderscores()
        let units: [(String, Int)] = [("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("KB", 1000), ("MB", 1_000_000),
                                      ("GB", 1_000_000_000), ("B", 1)]
        var value: Int?
        if let v = Int(s) { value = v }
        for (suffix, factor) in units where value == nil && s.hasSuffix(suffix) {
            if let n = Int(s.dropLast(suffix.count).trimmingSpaces()) { value = n.multipliedReportingOverflow(by: factor).overflow ? nil : n * factor }
        }
        guard let v = value else { throw error(node, "\(what) must be a size such as 16777216 or \"16MiB\" (got \"\(s)\")") }
        guard v >= min, v <= max else { throw error(node, "\(what) must be between \(min) and \(max) bytes (got \(v))") }
        return v
    }

    /// Accepts seconds as a number, or a number with a unit: `250ms`, `30s`, `5m`, `1h`.
    /// Positive values below `minimum` are refused: they would round to zero in the server's
    /// nanosecond and millisecond timers (an `idle_timeout: 1e-12` closed every connection).
    func duration(_ node: YAMLNode, _ what: String, allowZero: Bool = false, minimum: Double = 0.001) throws(ConfigError) -> Double {
        let s = try string(node, what).trimmingSpaces()
        var value: Double?
        if let v = Double(s) { value = v }
        // (suffix, seconds per unit as a fraction): dividing keeps 400us exactly 0.0004.
        for (suffix, times, per) in [("us", 1.0, 1e6), ("µs", 1.0, 1e6), ("μs", 1.0, 1e6), ("ms", 1.0, 1e3), ("s", 1.0, 1.0), ("m", 60.0, 1.0), ("h", 3600.0, 1.0)]
        where value == nil && s.hasSuffix(suffix) {
            if let n = Double(s.dropLast(suffix.count).trimmingSpaces()) { value = n * times / per }
        }
        guard let v = value, v.isFinite else {
            throw error(node, "\(what) must be a duration such as 30, \"30s\", \"250ms\", \"150us\" or \"5m\" (got \"\(s)\")")
        }
        guard v > 0 || (allowZero && v == 0) else { throw error(node, "\(what) must be \(allowZero ? "zero or " : "")positive (got \(s))") }
        guard v <= 366 * 86400 else { throw error(node, "\(what) is longer than a year (got \(s))") }
        guard v == 0 || v >= minimum else {
            throw error(node, "\(what) must be at least \(minimum >= 0.001 ? "\(Int((minimum * 1000).rounded())) ms" : "\(Int((minimum * 1e6).rounded())) µs") (got \(s))")
        }
        return v
    }
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
    func replacingUnderscores() -> String { String(self.filter { $0 != "_" }) }
}
