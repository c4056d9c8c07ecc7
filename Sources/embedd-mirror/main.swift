import EmbedSys

// embedd-mirror: forwards one collection's writes to its Milvus mirror (docs/milvus.md).
// Runs outside the daemon (which has no network), e.g. as systemd/embedd-mirror@.service.
let options: MirrorOptions
do throws(MirrorFailure) {
    options = try MirrorOptions.parse(Array(CommandLine.arguments.dropFirst()))
} catch {
    if case .help = error { print(MirrorOptions.usage); Environment.exit(0) }
    Forwarder.log("\(error)")
    Environment.exit(64)
}
do throws(MirrorFailure) {
    try Forwarder(options: options).run()
} catch {
    Forwarder.log("\(error)")
    Environment.exit(2)
}
