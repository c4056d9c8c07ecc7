import EmbedWire

/// The passed-file indices (`FileRef.index`) a request refers to: every other descriptor that
/// came with it is closed as soon as it is decoded. Requests that take no files do not conform
/// and get all their descriptors closed at once.
protocol ReferencesFiles {
    var referencedFiles: Set<UInt32> { get }
}

extension Input {
    var fileIndex: UInt32? { if case .file(let f) = kind { f.index } else { nil } }
}

extension EmbedRequest: ReferencesFiles {
    var referencedFiles: Set<UInt32> { Set(inputs.compactMap(\.fileIndex)) }
}

extension UpsertRequest: ReferencesFiles {
    var referencedFiles: Set<UInt32> {
        Set(items.compactMap { if case .input(let i)? = $0.value { i.fileIndex } else { nil } })
    }
}

extension SearchRequest: ReferencesFiles {
    var referencedFiles: Set<UInt32> {
        Set(queries.compactMap { if case .input(let i)? = $0.query { i.fileIndex } else { nil } })
    }
}

extension CallContext {
    /// Closes the passed descriptors `request` does not refer to (all of them for a request
    /// that takes no files).
    func closeUnreferencedFiles(of request: some ProtoMessage) {
        guard let files else { return }
        files.keepOnly((request as? any ReferencesFiles)?.referencedFiles ?? [])
    }
}
