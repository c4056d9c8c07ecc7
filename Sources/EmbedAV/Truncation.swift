/// A container whose own structure shows bytes missing (a box or Segment running past the end, an
/// Ogg file not ending with a whole last page), found by EmbedAV's reading before FFmpeg opens the
/// file: `AudioError.truncated` or `VideoError.truncated` to the caller.
struct Truncation: Error {
    let container: String
    let detail: String
}
