/// The vector-store commands, in the order `embedctl --help` lists them.
enum StoreCommands {
    static var all: [Command] {
        [CollectionCommand.command, AddCommand.command, SearchCommand.command, RecordCommands.get, RecordCommands.delete, RecordCommands.stats]
    }
}
