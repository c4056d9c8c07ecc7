import EmbedServer

// Everything lives in Daemon: top-level code here is @MainActor (DESIGN §5).
Daemon.runAndExit(arguments: Array(CommandLine.arguments.dropFirst()))
