import EmbedSys

Environment.exit(EmbedCtl.main(Array(CommandLine.arguments.dropFirst())))
