import EmbedConfig
import EmbedSys

/// The models LoadModel keeps: one file per model, `DATA_DIR/models.d/NAME.yaml` (`ModelFile`),
/// read at every start so that a model loaded from the shell survives restarts.
///
/// Under DATA_DIR, not beside embedd.yaml: the unit's `ProtectSystem=strict` makes /etc
/// read-only to the daemon, and the configuration file stays the administrator's alone.
/// Files are written atomically (temporary file, fsync, rename, fsync of the directory), so a
/// crash leaves the old file or the new one, never half of one. Used from the admin thread.
struct PersistedModels: Sendable {
    /// DATA_DIR/models.d
    let directory: String

    /// What one file in the directory holds.
    enum Found: Sendable {
        case model(ModelConfig, path: String)
        /// A file that cannot be used; `name` is its file name without `.yaml`.
        case broken(name: String, path: String, error: String)
    }

    /// Largest model file read (a model entry is a few hundred bytes).
    static let maxFileBytes = 1 << 20

    init(dataDirectory: String) {
        directory = Config.join(dataDirectory, "models.d")
    }

    /// Where model `name` is kept.
    func path(of name: String) -> String { directory + "/" + ModelFile.fileName(for: name) }

    /// Every `*.yaml` file of the directory in name order (hidden files, such as a temporary
    /// file left by a crash, are skipped). A file that cannot be read or parsed comes back as
    /// `.broken` with an error naming it (FILE:LINE:COLUMN where the parser knows), never as
    /// a thrown error: one bad file must not keep the others, or the daemon, from starting.
    /// - Returns: the files, and why the directory itself could not be listed (nil when it
    ///   could, or does not exist).
    func readAll() -> (found: [Found], error: String?) {
        guard FileSystem.exists(directory) else { return ([], nil) }
        let names: [String]
        do { names = try FileSystem.contentsOfDirectory(directory) } catch {
            return ([], "cannot list \(directory): \(error)")
        }
        var found: [Found] = []
        for file in names where file.hasSuffix(".yaml") && !file.hasPrefix(".") {
            let path = directory + "/" + file
            let name = String(file.dropLast(".yaml".count))
            guard FileSystem.isRegularFile(path) else {
                found.append(.broken(name: name, path: path, error: "\(path): not a regular file"))
                continue
            }
            let bytes: [UInt8]
            do { bytes = try FileSystem.readFile(path, limit: Self.maxFileBytes + 1) } catch {
                found.append(.broken(name: name, path: path, error: "\(path): cannot read: \(error)"))
                continue
            }
            guard bytes.count <= Self.maxFileBytes else {
                found.append(.broken(name: name, path: path, error: "\(path): larger than \(Self.maxFileBytes) bytes; a model file is a few lines"))
                continue
            }
            do {
                found.append(.model(try ModelFile.decode(bytes, fileName: path), path: path))
            } catch {
                found.append(.broken(name: name, path: path, error: error.description))
            }
        }
        return (found, nil)
    }

    /// Writes `model`'s file atomically, creating the directory when needed.
    func save(_ model: ModelConfig) throws(Errno) {
        if !FileSystem.isDirectory(directory) {
            try FileSystem.makeDirectories(directory, permissions: 0o750)
            // The new directory entry itself must survive a crash too.
            if let slash = directory.lastIndex(of: "/"), slash != directory.startIndex {
                try FileSystem.syncDirectory(String(directory[..<slash]))
            }
        }
        let final = path(of: model.name)
        let tmp = directory + "/." + ModelFile.fileName(for: model.name) + ".tmp"
        let text = ModelFile.encode(model, header: [
            "Loaded with `embedctl models load` (LoadModel); embedd loads it again at every start.",
            "`embedctl models unload \(model.name)` unloads it and removes this file. A model of the",
            "same name in the configuration file is used instead of this one.",
        ])
        try FileSystem.replaceFile(final, with: Array(text.utf8), temporary: tmp, directory: directory)
    }

    /// Removes the file at `path` (a file of this directory) durably.
    func remove(_ path: String) throws(Errno) {
        try FileSystem.unlink(path)
        try FileSystem.syncDirectory(directory)
    }
}
