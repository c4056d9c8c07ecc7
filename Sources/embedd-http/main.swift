import EmbedSys

Environment.exit(EmbeddHTTP.main(Array(CommandLine.arguments.dropFirst())))
