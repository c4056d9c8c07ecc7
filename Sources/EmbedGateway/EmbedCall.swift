import EmbedWire

/// One embedding request as the daemon sees it, whichever API it came through.
public struct EmbedCall: Equatable, Sendable {
    /// The model name ("" = the daemon's default model).
    public var model: String = ""
    public var texts: [String] = []
    public var truncation: Truncation = .default
    /// `EmbedRequest.prompt` ("" = the model's default prompt).
    public var prompt: String = ""

    public init(model: String = "", texts: [String] = [], truncation: Truncation = .default, prompt: String = "") {
        self.model = model
        self.texts = texts
        self.truncation = truncation
        self.prompt = prompt
    }

    /// The daemon request.
    public var request: EmbedRequest {
        EmbedRequest(model: model, inputs: texts.map { Input(kind: .text($0)) }, truncation: truncation, prompt: prompt)
    }
}
