import EmbedCLI

/// The vector-store commands, in the order `embedctl --help` lists them.
enum StoreCommands {
    static var all: [Command] {
        [CollectionCommand.command, Command(AddCommand.Add.self), Command(SearchCommand.Search.self),
         Command(RecordCommands.Get.self), Command(ScanCommands.Keys.self), Command(ScanCommands.Dump.self),
         Command(RecordCommands.Delete.self), Command(RecordCommands.Stats.self), Command(ExportCommand.Export.self)]
    }
}
