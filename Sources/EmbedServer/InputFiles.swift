import EmbedPluginHost
import EmbedWire

/// Reading inputs that name a passed file (`FileRef`), and the modality check, shared by Embed
/// (EmbedService) and Upsert/Search (StoreService).
extension CallContext {
    /// Reads passed file `f` as a text or media input: `text/*` (or no type, for a model that
    /// takes no media) as UTF-8 text, anything else as encoded media of that type.
    func fileInput(_ f: FileRef, limit: Int, textOnly: Bool, what: String) throws(RPCError) -> Input {
        guard let files else {
            throw RPCError(.invalidArgument, "\(what): refers to file #\(f.index) but no descriptors were passed with the call")
        }
        let bytes = try files.read(f.index, limit: limit, totalLimit: 4 * limit, what: what)
        if f.mimeType.hasPrefix("text/") || (f.mimeType.isEmpty && textOnly) {
            guard let s = String(validating: bytes, as: UTF8.self) else {
                throw RPCError(.invalidArgument, "\(what): file #\(f.index) is not valid UTF-8 text")
            }
            return .text(s)
        }
        return Input(.media(Media(data: bytes, mimeType: f.mimeType)))
    }
}

extension ModelSummary {
    /// Refuses an input of a kind this model does not take (text to an image model, pixels to
    /// a text model): a mistake in the request as a whole, not in one item.
    func requireKind(of input: EmbedInput, what: String) throws(RPCError) {
        guard info.inputKinds.contains(input.kind) else {
            let takes = info.inputKinds.map(\.description).sorted().joined(separator: ", ")
            throw RPCError(.invalidArgument, "\(what) is \(input.kind), but model '\(name)' (modalities \(info.modalities.names.joined(separator: ", "))) takes only \(takes)")
        }
    }
}
