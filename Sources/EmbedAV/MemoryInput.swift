import CFFmpeg

/// The caller's bytes as libavformat's input: a custom AVIOContext whose read and seek callbacks
/// copy from memory. No file, URL or protocol is ever opened; the bytes are borrowed, so the
/// caller keeps them alive (and unchanged) while this lives.
///
/// A class because its address is the context's `opaque` pointer and must not move. It is used
/// by one thread at a time (one decode), which is also the thread FFmpeg calls back on.
final class MemoryInput {
    private let base: UnsafeRawPointer
    private let count: Int
    private var position = 0
    /// Set once by `init`; the demuxer reads through it.
    private(set) var context: UnsafeMutablePointer<AVIOContext>!

    /// FFmpeg's own read size (IO_BUFFER_SIZE): demuxers read in blocks this large.
    private static let bufferSize = 32_768

    init(_ bytes: UnsafeRawBufferPointer) throws(AudioError) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { throw .emptyInput }
        self.base = base
        count = bytes.count
        // FFmpeg may replace this buffer with one of its own: freed through the context at the end.
        guard let buffer = av_malloc(Self.bufferSize) else { throw .resourceFailure("av_malloc of the input buffer") }
        let opaque = Unmanaged.passUnretained(self).toOpaque()
        context = avio_alloc_context(buffer.assumingMemoryBound(to: UInt8.self), Int32(Self.bufferSize), 0, opaque,
            { opaque, buffer, size in
                Unmanaged<MemoryInput>.fromOpaque(opaque!).takeUnretainedValue().read(into: buffer, size: size)
            }, nil,
            { opaque, offset, whence in
                Unmanaged<MemoryInput>.fromOpaque(opaque!).takeUnretainedValue().seek(offset, whence: whence)
            })
        guard context != nil else {
            av_free(buffer)
            throw .resourceFailure("avio_alloc_context")
        }
    }

    deinit {
        // nil when init threw after its other properties were set.
        guard var context: UnsafeMutablePointer<AVIOContext>? = self.context else { return }
        av_freep(&context!.pointee.buffer)
        avio_context_free(&context)
    }

    /// Copies up to `size` bytes from the read position; AVERROR_EOF at the end (FFmpeg 5.1
    /// treats a 0 return as an error, not as the end).
    private func read(into buffer: UnsafeMutablePointer<UInt8>?, size: Int32) -> Int32 {
        guard let buffer, size > 0 else { return FFmpeg.invalidData }
        let n = min(Int(size), count - position)
        guard n > 0 else { return FFmpeg.eof }
        UnsafeMutableRawPointer(buffer).copyMemory(from: base + position, byteCount: n)
        position += n
        return Int32(n)
    }

    /// SEEK_SET, SEEK_CUR and SEEK_END within the bytes (0…count), and AVSEEK_SIZE (the size).
    /// A position outside the bytes is refused (a damaged header's offset), not clamped.
    private func seek(_ offset: Int64, whence: Int32) -> Int64 {
        let mode = whence & ~Int32(AVSEEK_FORCE)
        if mode & Int32(AVSEEK_SIZE) != 0 { return Int64(count) }
        let origin: Int64
        switch mode {
        case 0: origin = 0                  // SEEK_SET
        case 1: origin = Int64(position)    // SEEK_CUR
        case 2: origin = Int64(count)       // SEEK_END
        default: return Int64(FFmpeg.invalidData)
        }
        let (target, overflow) = origin.addingReportingOverflow(offset)
        guard !overflow, target >= 0, target <= Int64(count) else { return Int64(FFmpeg.invalidData) }
        position = Int(target)
        return target
    }
}
