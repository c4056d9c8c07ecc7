import CEmbedABI

/// Builds a plugin's static descriptor, whose six function pointers are the kit's trampolines.
package enum PluginDescriptor {
    /// The descriptor for plugin type `P`: ABI version, `P`'s name, version and summary, no flags
    /// (a Swift image is never unloadable), and the kit's trampolines. Call it once, from the
    /// initializer of a global `let` in the plugin target (the descriptor is never freed); an
    /// image holds one plugin type.
    package static func make<P: EmbedPlugin>(for type: P.Type) -> UnsafePointer<embedd_plugin_descriptor> {
        precondition(pluginType == nil || pluginType! == type, "one EmbedPlugin type per image")
        pluginType = type
        var v = embedd_plugin_descriptor()
        v.struct_size = UInt32(MemoryLayout<embedd_plugin_descriptor>.size)
        v.abi_major = UInt16(EMBEDD_ABI_VERSION_MAJOR)
        v.abi_minor = UInt16(EMBEDD_ABI_VERSION_MINOR)
        v.name = UnsafePointer(CStringStore.copy(P.name))
        v.version = UnsafePointer(CStringStore.copy(P.version))
        v.description = UnsafePointer(CStringStore.copy(P.summary))
        v.flags = 0  // a Swift image: never unloadable
        v.`init` = pluginInit
        v.finalize = pluginFinalize
        v.load_model = pluginLoadModel
        v.describe_model = pluginDescribe
        v.embed = pluginEmbed
        v.release_model = pluginRelease
        let d = UnsafeMutablePointer<embedd_plugin_descriptor>.allocate(capacity: 1)
        d.initialize(to: v)
        return UnsafePointer(d)
    }
}

/// The image's plugin type, set by `PluginDescriptor.make` before the host can call `init`
/// (it gets the descriptor from the entry point first). C function pointers cannot capture a
/// generic parameter, so `init` finds the type here; every later call reaches it through the
/// boxed instance.
nonisolated(unsafe) private var pluginType: (any EmbedPlugin.Type)?

/// The plugin instance behind the ABI's `void *plugin`.
private final class PluginBox {
    let plugin: any EmbedPlugin
    init(_ plugin: any EmbedPlugin) { self.plugin = plugin }
}

// MARK: Trampolines (the descriptor's function pointers)

private func pluginInit(_ host: UnsafePointer<embedd_host_api>?, _ plugin: UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
                        _ errorBuffer: UnsafeMutablePointer<CChar>?, _ capacity: Int) -> Int32 {
    guard let host, let plugin, let type = pluginType else {
        copyMessage("init: host API or plugin pointer is NULL", into: errorBuffer, capacity: capacity)
        return EMBEDD_ERR_INTERNAL.code
    }
    guard host.pointee.abi_major == UInt16(EMBEDD_ABI_VERSION_MAJOR) else {
        copyMessage("\(type.name) plugin speaks ABI \(EMBEDD_ABI_VERSION_MAJOR).x, host offers \(host.pointee.abi_major).\(host.pointee.abi_minor)",
                    into: errorBuffer, capacity: capacity)
        return EMBEDD_ERR_INTERNAL.code
    }
    do {
        let instance = try type.init(host: PluginHost(copying: host))
        plugin.pointee = Unmanaged.passRetained(PluginBox(instance)).toOpaque()
        return EMBEDD_OK.code
    } catch {
        copyMessage(error.message, into: errorBuffer, capacity: capacity)
        return error.status.code
    }
}

private func pluginFinalize(_ plugin: UnsafeMutableRawPointer?) {
    guard let plugin else { return }
    Unmanaged<PluginBox>.fromOpaque(plugin).release()
}

private func pluginLoadModel(_ plugin: UnsafeMutableRawPointer?, _ dir: UnsafePointer<CChar>?,
                             _ options: UnsafePointer<embedd_option>?, _ optionCount: Int,
                             _ model: UnsafeMutablePointer<OpaquePointer?>?,
                             _ error: UnsafeMutablePointer<CChar>?, _ capacity: Int) -> Int32 {
    guard let plugin, let dir, let model else {
        copyMessage("load_model: NULL argument", into: error, capacity: capacity)
        return EMBEDD_ERR_INTERNAL.code
    }
    let box = Unmanaged<PluginBox>.fromOpaque(plugin).takeUnretainedValue()
    var pairs: [(key: String, value: String)] = []
    for i in 0..<optionCount {
        guard let o = options?[i], let k = o.key, let v = o.value else {
            copyMessage("option \(i) has a NULL key or value", into: error, capacity: capacity)
            return EMBEDD_ERR_OPTIONS.code
        }
        pairs.append((String(cString: k), String(cString: v)))
    }
    var directory = String(cString: dir)
    while directory.count > 1 && directory.hasSuffix("/") { directory.removeLast() }
    do {
        let loaded: any EmbedPluginModel = try box.plugin.loadModel(directory: directory, options: pairs)
        model.pointee = OpaquePointer(Unmanaged.passRetained(ModelHandle(loaded)).toOpaque())
        return EMBEDD_OK.code
    } catch let e {
        copyMessage(e.message, into: error, capacity: capacity)
        return e.status.code
    }
}

private func pluginDescribe(_ model: OpaquePointer?) -> UnsafePointer<embedd_model_info>? {
    guard let model else { return nil }
    return UnsafePointer(Unmanaged<ModelHandle>.fromOpaque(UnsafeRawPointer(model)).takeUnretainedValue().storage.info)
}

private func pluginRelease(_ model: OpaquePointer?) {
    guard let model else { return }
    Unmanaged<ModelHandle>.fromOpaque(UnsafeRawPointer(model)).release()
}

private func pluginEmbed(_ model: OpaquePointer?, _ request: UnsafePointer<embedd_embed_request>?) -> Int32 {
    guard let model, let request else { return EMBEDD_ERR_INTERNAL.code }
    return Unmanaged<ModelHandle>.fromOpaque(UnsafeRawPointer(model)).takeUnretainedValue().embed(request)
}
