import EmbedCLI
import EmbedJSON
import EmbedMilvus
import EmbedSys

/// The resume file of one export (collection → target): the last key Milvus acknowledged and
/// how many records were written, replaced atomically after every batch and removed once the
/// export completed. JSON: {"collection", "target", "after", "exported"}.
struct ExportState {
    let path: String
    let collection: String
    let url: MilvusURL

    /// `$XDG_STATE_HOME/embedd/export/COLLECTION@HOST_PORT_[DB_]NAME.json` (XDG_STATE_HOME
    /// defaults to ~/.local/state).
    static func defaultPath(collection: String, url: MilvusURL) -> String {
        let base = Environment.get("XDG_STATE_HOME").flatMap { $0.isEmpty ? nil : $0 }
            ?? ((Environment.get("HOME") ?? "/tmp") + "/.local/state")
        let host = String(url.host.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" ? $0 : "_" })
        let target = "\(host)_\(url.port)_" + (url.database.map { $0 + "_" } ?? "") + url.collection
        return base + "/embedd/export/\(collection)@\(target).json"
    }

    /// The saved position, or nil when there is none; refuses a file for another export.
    func load() throws(CLIError) -> (after: String, exported: Int)? {
        guard FileSystem.exists(path) else { return nil }
        let value: JSONValue
        do { value = try JSONValue.parse(try FileSystem.readFile(path, limit: 1 << 20)) } catch {
            throw .runtime("cannot read the resume file \(path): \(error)")
        }
        guard let after = value["after"]?.string, let exported = value["exported"]?.int else {
            throw .runtime("the resume file \(path) is not one embedctl wrote")
        }
        guard value["collection"]?.string == collection, value["target"]?.string == url.description else {
            throw .runtime("the resume file \(path) belongs to the export of '\(value["collection"]?.string ?? "?")' to "
                           + "\(value["target"]?.string ?? "?")")
        }
        return (after, exported)
    }

    func save(after: String, exported: Int) throws(CLIError) {
        let text = "{\"collection\":\(JSON.string(collection)),\"target\":\(JSON.string(url.description)),"
            + "\"after\":\(JSON.string(after)),\"exported\":\(exported)}\n"
        let directory = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        do {
            if !directory.isEmpty { try FileSystem.makeDirectories(directory, permissions: 0o700) }
            try FileSystem.replaceFile(path, with: Array(text.utf8), temporary: path + ".tmp",
                                           directory: directory.isEmpty ? "." : directory, permissions: 0o600)
        } catch {
            throw .runtime("cannot write the resume file \(path): \(error)")
        }
    }

    func remove() { try? FileSystem.unlink(path) }
}
