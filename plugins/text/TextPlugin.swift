import CEmbedABI
import EmbedNN

// The text plugin: BERT and MPNet sentence-transformers models behind the embedd plugin ABI.
// Only `embedd_plugin_entry` is exported (plugins/exports.map); everything else is internal.

/// The static descriptor; built once, never freed (the ABI says descriptors are static).
nonisolated(unsafe) private let descriptor: UnsafeMutablePointer<embedd_plugin_descriptor> = {
    let d = UnsafeMutablePointer<embedd_plugin_descriptor>.allocate(capacity: 1)
    var v = embedd_plugin_descriptor()
    v.struct_size = UInt32(MemoryLayout<embedd_plugin_descriptor>.size)
    v.abi_major = UInt16(EMBEDD_ABI_VERSION_MAJOR)
    v.abi_minor = UInt16(EMBEDD_ABI_VERSION_MINOR)
    v.name = staticString("text")
    v.version = staticString("1.0.0")
    v.description = staticString("Sentence-transformers text models (BERT, MPNet) on oneDNN, fp32 or bf16")
    v.flags = 0  // a Swift image: never unloadable
    v.`init` = textPluginInit
    v.finalize = textPluginFinalize
    v.load_model = textPluginLoadModel
    v.describe_model = textPluginDescribe
    v.embed = textPluginEmbed
    v.release_model = textPluginRelease
    d.initialize(to: v)
    return d
}()

/// A C string that lives as long as the image (descriptor strings).
private func staticString(_ s: String) -> UnsafePointer<CChar> {
    let bytes = Array(s.utf8CString)
    let p = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count)
    p.initialize(from: bytes, count: bytes.count)
    return UnsafePointer(p)
}

/// The one exported symbol: returns the static descriptor.
@_cdecl("embedd_plugin_entry")
public func embedd_plugin_entry() -> UnsafePointer<embedd_plugin_descriptor> {
    UnsafePointer(descriptor)
}

private func writeError(_ buffer: UnsafeMutablePointer<CChar>?, _ capacity: Int, _ message: String) {
    guard let buffer, capacity > 0 else { return }
    message.withCString { embedd_copy_message(buffer, capacity, $0) }
}

private func textPluginInit(_ host: UnsafePointer<embedd_host_api>?, _ plugin: UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
                            _ error: UnsafeMutablePointer<CChar>?, _ capacity: Int) -> Int32 {
    guard let host, let plugin else {
        writeError(error, capacity, "init: host API or plugin pointer is NULL")
        return Int32(EMBEDD_ERR_INTERNAL.rawValue)
    }
    guard host.pointee.abi_major == UInt16(EMBEDD_ABI_VERSION_MAJOR) else {
        writeError(error, capacity, "text plugin speaks ABI \(EMBEDD_ABI_VERSION_MAJOR).x, host offers \(host.pointee.abi_major).\(host.pointee.abi_minor)")
        return Int32(EMBEDD_ERR_INTERNAL.rawValue)
    }
    // Copy only the fields the host declared (struct_size), per the ABI's growth rule.
    var api = embedd_host_api()
    withUnsafeMutableBytes(of: &api) { dst in
        let n = min(Int(host.pointee.struct_size), dst.count)
        dst.copyMemory(from: UnsafeRawBufferPointer(start: host, count: n))
    }
    plugin.pointee = Unmanaged.passRetained(TextPluginState(host: api)).toOpaque()
    return Int32(EMBEDD_OK.rawValue)
}

private func textPluginFinalize(_ plugin: UnsafeMutableRawPointer?) {
    guard let plugin else { return }
    Unmanaged<TextPluginState>.fromOpaque(plugin).release()
}

private func textPluginLoadModel(_ plugin: UnsafeMutableRawPointer?, _ dir: UnsafePointer<CChar>?,
                                 _ options: UnsafePointer<embedd_option>?, _ optionCount: Int,
                                 _ model: UnsafeMutablePointer<OpaquePointer?>?,
                                 _ errorBuffer: UnsafeMutablePointer<CChar>?, _ capacity: Int) -> Int32 {
    guard let plugin, let dir, let model else {
        writeError(errorBuffer, capacity, "load_model: NULL argument")
        return Int32(EMBEDD_ERR_INTERNAL.rawValue)
    }
    let state = Unmanaged<TextPluginState>.fromOpaque(plugin).takeUnretainedValue()
    var pairs: [(String, String)] = []
    for i in 0..<optionCount {
        guard let o = options?[i], let k = o.key, let v = o.value else {
            writeError(errorBuffer, capacity, "option \(i) has a NULL key or value")
            return Int32(EMBEDD_ERR_OPTIONS.rawValue)
        }
        pairs.append((String(cString: k), String(cString: v)))
    }
    let parsed: TextPluginOptions
    do { parsed = try TextPluginOptions(pairs) } catch {
        writeError(errorBuffer, capacity, error.message)
        return Int32(EMBEDD_ERR_OPTIONS.rawValue)
    }
    var folder = String(cString: dir)
    while folder.count > 1 && folder.hasSuffix("/") { folder.removeLast() }
    do {
        let m = try TextModel(folder: folder, options: parsed)
        if parsed.embedder.precision == .bf16 && m.embedder.effectivePrecision != .bf16 {
            state.log(EMBEDD_LOG_WARNING, "text: \(folder): precision bf16 requested but this CPU has no native bf16 (\(Precision.cpuDescription)); using fp32")
        }
        let precision = m.embedder.effectivePrecision.rawValue + (parsed.precisionIsAuto ? " (precision auto; CPU: \(Precision.cpuDescription))" : "")
        state.log(EMBEDD_LOG_INFO, "text: loaded \(folder): dim \(m.embedder.dimension), \(precision), max \(m.embedder.maxSequenceLength) tokens")
        model.pointee = OpaquePointer(Unmanaged.passRetained(m).toOpaque())
        return Int32(EMBEDD_OK.rawValue)
    } catch {
        writeError(errorBuffer, capacity, error.message)
        return Int32(EMBEDD_ERR_MODEL.rawValue)
    }
}

private func textPluginDescribe(_ model: OpaquePointer?) -> UnsafePointer<embedd_model_info>? {
    guard let model else { return nil }
    return UnsafePointer(Unmanaged<TextModel>.fromOpaque(UnsafeRawPointer(model)).takeUnretainedValue().info)
}

private func textPluginRelease(_ model: OpaquePointer?) {
    guard let model else { return }
    Unmanaged<TextModel>.fromOpaque(UnsafeRawPointer(model)).release()
}

private func textPluginEmbed(_ model: OpaquePointer?, _ request: UnsafePointer<embedd_embed_request>?) -> Int32 {
    guard let model, let request else { return Int32(EMBEDD_ERR_INTERNAL.rawValue) }
    let m = Unmanaged<TextModel>.fromOpaque(UnsafeRawPointer(model)).takeUnretainedValue()
    return TextEmbedCall(model: m, request: request).run()
}
