import EmbedPluginHost
import EmbedWire

/// Reading inputs that name a passed file (`FileRef`), and the modality check, shared by Embed
/// (EmbedService) and Upsert/Search (StoreService).
extension CallContext {
    /// Reads passed file `f` as a text or media input: `text/*` (or no type, for a model that
    /// takes no media) as text in its charset (`TextContent`), anything else as encoded media of
    /// that type.
    func fileInput(_ f: FileRef, limit: Int, textOnly: Bool, what: String) throws(RPCError) -> Input {
        guard let files else {
            throw RPCError(.invalidArgument, "\(what): refers to file #\(f.index) but no descriptors were passed with the call")
        }
        let bytes = try files.read(f.index, limit: limit, totalLimit: 4 * limit, what: what)
        if TextContent.isText(f.mimeType) || (f.mimeType.isEmpty && textOnly) {
            return .text(try TextContent.decode(bytes, mimeType: f.mimeType, what: "\(what) (file #\(f.index))"))
        }
        return Input(.media(Media(data: bytes, mimeType: f.mimeType)))
    }
}

extension ModelSummary {
    /// Media with no type: sent to a model that takes text but no media, it is that text
    /// (UTF-8, the same rule as for passed files); sent to a model that takes media, it gets
    /// the type its first bytes show (`MediaSniffer`), or stays untyped and is refused by name.
    func textIfUntypedMedia(_ input: EmbedInput, what: String) throws(RPCError) -> EmbedInput {
        guard case .encoded(let bytes, let mimeType) = input, mimeType.isEmpty else { return input }
        if info.inputKinds.contains(.encoded) {
            return MediaSniffer.mimeType(bytes).map { .encoded(bytes: bytes, mimeType: $0) } ?? input
        }
        guard info.inputKinds.contains(.text) else { return input }
        return .text(try TextContent.decode(bytes, mimeType: "", what: what))
    }

    /// Refuses an input of a kind this model does not take (text to an image model, pixels to
    /// a text model): a mistake in the request as a whole, not in one item.
    func requireKind(of input: EmbedInput, what: String) throws(RPCError) {
        guard info.inputKinds.contains(input.kind) else {
            let takes = info.inputKinds.map(\.description).sorted().joined(separator: ", ")
            throw RPCError(.invalidArgument, "\(what) is \(input.kind), but model '\(name)' (modalities \(info.modalities.names.joined(separator: ", "))) takes only \(takes)")
        }
    }
}
