import CEmbedABI
import Testing
@testable import EmbedPluginKit

/// The fake plugin's descriptor, built once as a plugin's global would be.
nonisolated(unsafe) let fakeDescriptor = PluginDescriptor.make(for: FakePlugin.self)

/// Lines the host log received (host_context points at it).
final class LogSink {
    var lines: [String] = []
}

/// The NUL-terminated message in a host-style buffer.
private func text(_ buffer: [CChar]) -> String {
    buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
}

/// Runs `body` with a started fake plugin and a model loaded with `options`.
private func withModel<R>(options: [(String, String)] = [], _ body: (OpaquePointer) throws -> R) throws -> R {
    let d = fakeDescriptor.pointee
    var api = embedd_host_api()
    api.struct_size = UInt32(MemoryLayout<embedd_host_api>.size)
    api.abi_major = UInt16(EMBEDD_ABI_VERSION_MAJOR)
    var plugin: UnsafeMutableRawPointer?
    var error = [CChar](repeating: 0, count: Int(EMBEDD_MESSAGE_CAPACITY))
    #expect(d.`init`!(&api, &plugin, &error, error.count) == Int32(EMBEDD_OK.rawValue))
    defer { d.finalize!(plugin) }
    var model: OpaquePointer?
    let keys = options.map { CStringStore.copy($0.0) }, values = options.map { CStringStore.copy($0.1) }
    defer { (keys + values).forEach { $0.deallocate() } }
    let opts = (0..<options.count).map { embedd_option(key: keys[$0], value: values[$0]) }
    let rc = d.load_model!(plugin, "/models/fake//", opts, opts.count, &model, &error, error.count)
    try #require(rc == Int32(EMBEDD_OK.rawValue), "\(text(error))")
    defer { d.release_model!(model) }
    return try body(model!)
}

/// One embed call over `texts` (kind overridable per input) with a host-style request.
/// `structSize` fakes an older host's request; `usage` receives the ABI 1.1 token counts.
private func embed(_ model: OpaquePointer, _ texts: [String], count: Int? = nil, kinds: [UInt32]? = nil, cancel: UInt32 = 0,
                   structSize: Int = MemoryLayout<embedd_embed_request>.size, usage: UnsafeMutablePointer<embedd_input_usage>? = nil)
    -> (rc: Int32, error: String, statuses: [(Int32, String)], output: [Float]) {
    let n = texts.count
    let bytes = texts.map { Array($0.utf8) }
    let data = bytes.map { b in
        let p = UnsafeMutablePointer<UInt8>.allocate(capacity: max(b.count, 1))
        p.initialize(from: b, count: b.count)
        return p
    }
    defer { data.forEach { $0.deallocate() } }
    var inputs = (0..<n).map { i in
        var input = embedd_input()
        input.kind = kinds?[i] ?? EMBEDD_INPUT_TEXT.rawValue
        input.data = UnsafePointer(data[i])
        input.size = bytes[i].count
        return input
    }
    var output = [Float](repeating: 0, count: max(n, 1) * FakeModel.dim)
    var statuses = [embedd_input_status](repeating: embedd_input_status(), count: max(n, 1))
    var flag = cancel
    var error = [CChar](repeating: 0, count: Int(EMBEDD_MESSAGE_CAPACITY))
    let rc = inputs.withUnsafeMutableBufferPointer { inputs in
        output.withUnsafeMutableBufferPointer { output in
            statuses.withUnsafeMutableBufferPointer { statuses in
                error.withUnsafeMutableBufferPointer { error in
                    withUnsafePointer(to: &flag) { flag in
                        var r = embedd_embed_request()
                        r.struct_size = UInt32(structSize)
                        r.usage = usage
                        r.count = UInt32(count ?? n)
                        r.inputs = UnsafePointer(inputs.baseAddress)
                        r.output = output.baseAddress
                        r.statuses = statuses.baseAddress
                        r.cancel = flag
                        r.error = error.baseAddress
                        r.error_capacity = error.count
                        return fakeDescriptor.pointee.embed!(model, &r)
                    }
                }
            }
        }
    }
    let s = statuses.prefix(n).map { st -> (Int32, String) in
        var m = st.message
        return (st.status, withUnsafeBytes(of: &m) { String(cString: $0.baseAddress!.assumingMemoryBound(to: CChar.self)) })
    }
    return (rc, text(error), s, output)
}

@Suite(.serialized) struct EmbedPluginKitTests {
    // MARK: Host API, struct_size growth rule

    @Test func hostAPICopiesOnlyTheDeclaredFields() {
        let sink = LogSink()
        let log: @convention(c) (UnsafeMutableRawPointer?, Int32, UnsafePointer<CChar>?) -> Void = { ctx, level, line in
            Unmanaged<LogSink>.fromOpaque(ctx!).takeUnretainedValue().lines.append("\(level) \(String(cString: line!))")
        }
        var api = embedd_host_api()
        api.abi_major = 1
        api.abi_minor = 0
        api.host_context = Unmanaged.passUnretained(sink).toOpaque()
        api.log = log

        // An older host whose struct ends before `host_context`: the newer fields stay zero.
        api.struct_size = 8
        let old = PluginHost(copying: &api)
        #expect(old.api.struct_size == 8 && old.api.abi_major == 1)
        #expect(old.api.host_context == nil && old.api.log == nil)
        old.log(EMBEDD_LOG_INFO, "dropped")  // no callback: a no-op
        #expect(sink.lines.isEmpty)

        // The full struct: the log reaches the host.
        api.struct_size = UInt32(MemoryLayout<embedd_host_api>.size)
        PluginHost(copying: &api).log(EMBEDD_LOG_WARNING, "hello")
        #expect(sink.lines == ["4 hello"])

        // A newer host's larger struct: only the fields this plugin knows are read.
        let size = MemoryLayout<embedd_host_api>.size
        let big = UnsafeMutableRawPointer.allocate(byteCount: size + 64, alignment: 16)
        defer { big.deallocate() }
        big.initializeMemory(as: UInt8.self, repeating: 0xAB, count: size + 64)
        api.struct_size = UInt32(size + 64)
        big.storeBytes(of: api, as: embedd_host_api.self)
        let newer = PluginHost(copying: big.assumingMemoryBound(to: embedd_host_api.self))
        #expect(newer.api.struct_size == UInt32(size + 64))
        newer.log(EMBEDD_LOG_ERROR, "x")
        #expect(sink.lines.last == "3 x")
    }

    // MARK: Error buffers

    @Test func messagesAreTruncatedAndTerminated() {
        var buffer = [CChar](repeating: 0x7F, count: 5)
        copyMessage("abcdefgh", into: &buffer, capacity: buffer.count)
        #expect(buffer == [97, 98, 99, 100, 0])
        copyMessage("", into: &buffer, capacity: buffer.count)
        #expect(buffer[0] == 0)
        var untouched: [CChar] = [0x7F]
        copyMessage("abc", into: &untouched, capacity: 0)
        #expect(untouched == [0x7F])
        copyMessage("abc", into: nil, capacity: 10)  // no buffer: nothing happens
    }

    // MARK: Descriptor and lifetimes

    @Test func descriptorCarriesThePluginIdentityAndEveryEntry() {
        let d = fakeDescriptor.pointee
        #expect(d.struct_size == UInt32(MemoryLayout<embedd_plugin_descriptor>.size))
        #expect(d.abi_major == UInt16(EMBEDD_ABI_VERSION_MAJOR) && d.abi_minor == UInt16(EMBEDD_ABI_VERSION_MINOR))
        #expect(String(cString: d.name) == "fake" && String(cString: d.version) == "0.1.0")
        #expect(String(cString: d.description) == "EmbedPluginKit test plugin")
        #expect(d.flags == 0)
        #expect(d.`init` != nil && d.finalize != nil && d.load_model != nil)
        #expect(d.describe_model != nil && d.embed != nil && d.release_model != nil)
    }

    @Test func initRefusesAnotherMajorAndNullArguments() {
        let d = fakeDescriptor.pointee
        var api = embedd_host_api()
        api.struct_size = UInt32(MemoryLayout<embedd_host_api>.size)
        api.abi_major = 2
        api.abi_minor = 3
        var plugin: UnsafeMutableRawPointer?
        var error = [CChar](repeating: 0, count: 256)
        #expect(d.`init`!(&api, &plugin, &error, error.count) == Int32(EMBEDD_ERR_INTERNAL.rawValue))
        #expect(text(error) == "fake plugin speaks ABI 1.x, host offers 2.3")
        #expect(plugin == nil)
        #expect(d.`init`!(nil, &plugin, &error, error.count) == Int32(EMBEDD_ERR_INTERNAL.rawValue))
        #expect(text(error) == "init: host API or plugin pointer is NULL")
    }

    @Test func loadModelPassesTrimmedDirectoryAndOptionsAndDescribes() throws {
        let before = FakePlugin.releasedModels
        try withModel(options: [("a", "1"), ("b", "two")]) { model in
            #expect(FakePlugin.lastDirectory == "/models/fake")
            #expect(FakePlugin.lastOptions == ["a=1", "b=two"])
            let info = try #require(fakeDescriptor.pointee.describe_model!(model)).pointee
            #expect(info.struct_size == UInt32(MemoryLayout<embedd_model_info>.size))
            #expect(String(cString: info.name) == "fake-model" && String(cString: info.version) == "v1")
            #expect(String(cString: info.embedding_space) == "fake/fake-model@v1")
            #expect(info.modalities == EMBEDD_MODALITY_TEXT.rawValue && info.input_kinds == 1 << EMBEDD_INPUT_TEXT.rawValue)
            #expect(info.mime_type_count == 2)
            #expect(String(cString: info.mime_types[1]!) == "text/markdown")
            #expect(info.dim == 4 && info.metric == EMBEDD_METRIC_L2.rawValue && info.normalized == 0)
            #expect(info.max_tokens == 7 && info.max_pixels == 0 && info.max_seconds == 0)
            #expect(info.max_input_bytes == 1000 && info.preferred_batch == 2 && info.max_batch == 3)
            #expect(info.concurrent == 0 && info.batch_tolerance == 0.5)
            // Stable: the same pointer every time.
            #expect(fakeDescriptor.pointee.describe_model!(model) == fakeDescriptor.pointee.describe_model!(model))
        }
        #expect(FakePlugin.releasedModels == before + 1)  // release_model dropped the model
    }

    @Test func loadModelMapsErrors() {
        let d = fakeDescriptor.pointee
        var api = embedd_host_api()
        api.struct_size = UInt32(MemoryLayout<embedd_host_api>.size)
        api.abi_major = UInt16(EMBEDD_ABI_VERSION_MAJOR)
        var plugin: UnsafeMutableRawPointer?
        var error = [CChar](repeating: 0, count: 256)
        #expect(d.`init`!(&api, &plugin, &error, error.count) == Int32(EMBEDD_OK.rawValue))
        defer { d.finalize!(plugin) }
        var model: OpaquePointer?
        // The plugin's own refusal keeps its status and message.
        let key = CStringStore.copy("fail"), value = CStringStore.copy("yes")
        defer { key.deallocate(); value.deallocate() }
        var opts = [embedd_option(key: key, value: value)]
        #expect(d.load_model!(plugin, "/m", opts, 1, &model, &error, error.count) == Int32(EMBEDD_ERR_OPTIONS.rawValue))
        #expect(text(error) == "option fail: 'yes'" && model == nil)
        // A NULL key or value never reaches the plugin.
        opts = [embedd_option(key: key, value: value), embedd_option(key: key, value: nil)]
        #expect(d.load_model!(plugin, "/m", opts, 2, &model, &error, error.count) == Int32(EMBEDD_ERR_OPTIONS.rawValue))
        #expect(text(error) == "option 1 has a NULL key or value")
        #expect(d.load_model!(plugin, nil, nil, 0, &model, &error, error.count) == Int32(EMBEDD_ERR_INTERNAL.rawValue))
        #expect(text(error) == "load_model: NULL argument")
    }

    // MARK: Embed calls

    @Test func perInputStatusesFailAloneAndRowsLand() throws {
        try withModel { model in
            let long = "bad " + String(repeating: "x", count: 400)
            let r = embed(model, ["hello", long, "hi"])
            #expect(r.rc == Int32(EMBEDD_OK.rawValue))
            #expect(r.statuses[0].0 == Int32(EMBEDD_OK.rawValue) && r.statuses[0].1 == "")
            #expect(r.statuses[1].0 == Int32(EMBEDD_ERR_INVALID_INPUT.rawValue))
            // Truncated to the 256-byte field, NUL included.
            #expect(r.statuses[1].1 == String(long.prefix(Int(EMBEDD_MESSAGE_CAPACITY) - 1)))
            #expect(r.statuses[2].0 == Int32(EMBEDD_OK.rawValue))
            #expect(Array(r.output[0..<4]) == [0, 5, 0, 0])
            #expect(Array(r.output[4..<8]) == [0, 0, 0, 0])  // the failed row is left as the host zeroed it
            #expect(Array(r.output[8..<12]) == [2, 2, 0, 0])
        }
    }

    @Test func wholeCallChecksAndErrors() throws {
        try withModel { model in
            var r = embed(model, [], count: 0)
            #expect(r.rc == Int32(EMBEDD_ERR_INTERNAL.rawValue) && r.error == "embed: empty batch or NULL buffers")
            r = embed(model, ["a", "b", "c", "d"])
            #expect(r.rc == Int32(EMBEDD_ERR_TOO_LARGE.rawValue) && r.error == "batch of 4 inputs exceeds max_batch 3")
            r = embed(model, ["a"], cancel: 1)
            #expect(r.rc == Int32(EMBEDD_ERR_CANCELLED.rawValue) && r.error == "cancelled")
            #expect(r.output[0] == 0)  // the model never ran
            r = embed(model, ["explode", "a"])
            #expect(r.rc == Int32(EMBEDD_ERR_RESOURCE.rawValue) && r.error == "out of everything")
            #expect(fakeDescriptor.pointee.embed!(model, nil) == Int32(EMBEDD_ERR_INTERNAL.rawValue))
        }
    }

    @Test func cancellationFlagReadsTheHostWord() {
        var word: UInt32 = 0
        withUnsafePointer(to: &word) { p in
            #expect(!CancellationFlag(p).isRequested)
        }
        word = 1
        withUnsafePointer(to: &word) { p in
            #expect(CancellationFlag(p).isRequested)
        }
        #expect(!CancellationFlag(nil).isRequested)
    }

    @Test func tokenCountsReachOnlyAHostThatAskedForThem() throws {
        try withModel { model in
            let usage = UnsafeMutablePointer<embedd_input_usage>.allocate(capacity: 2)
            defer { usage.deallocate() }
            usage.initialize(repeating: embedd_input_usage(), count: 2)
            // A 1.1 request: the fake counts a byte as a token and keeps four.
            _ = embed(model, ["abcdef", "ab"], usage: usage)
            #expect(usage[0].tokens == 6 && usage[0].used == 4 && usage[0].truncated == 1)
            #expect(usage[1].tokens == 2 && usage[1].used == 2 && usage[1].truncated == 0)
            // A 1.0 request (struct_size ends before `usage`): the pointer is never touched,
            // even when the memory behind the smaller struct happens to hold one.
            usage.update(repeating: embedd_input_usage(), count: 2)
            let old = MemoryLayout<embedd_embed_request>.offset(of: \.usage)!
            let r = embed(model, ["abcdef", "ab"], structSize: old, usage: usage)
            #expect(r.rc == EMBEDD_OK.rawValue && usage[0].tokens == 0 && usage[1].tokens == 0)
        }
    }
}
