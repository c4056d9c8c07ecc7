import CFFmpeg
import EmbedSys

/// The caller's encoded media as libavformat's input: a custom AVIOContext whose read and seek
/// callbacks copy from memory or `pread` a descriptor. No file, URL or protocol is ever opened
/// by FFmpeg; a descriptor's offset is never moved and it is never closed here. Also gives
/// EmbedAV's own structure checks (`MP4Boxes`, `OggPages`, ...) random access to the same bytes.
///
/// Borrowed memory must stay alive and unchanged while this lives (`AudioDecoder`'s pointer
/// entry point); an array is kept by this object.
///
/// A class because its address is the context's `opaque` pointer and must not move. It is used
/// by one thread at a time (one decode), which is also the thread FFmpeg calls back on (the
/// decoders' worker threads never read input).
final class MediaInput {
    enum Storage {
        case borrowed(UnsafeRawBufferPointer)
        case array([UInt8])
        case descriptor(FileDescriptor)
    }

    private let storage: Storage
    /// The number of bytes: the memory's, or the size the caller gave for the descriptor.
    let size: Int64
    private var position: Int64 = 0
    /// The first `pread` failure (EIO on a failing disk, EBADF for a closed descriptor): a read
    /// callback can return only an FFmpeg error code, so the reason is kept here.
    private(set) var readFailure: Errno? = nil
    /// Set once by `init`; the demuxer reads through it.
    private(set) var context: UnsafeMutablePointer<AVIOContext>!

    /// FFmpeg's own read size (IO_BUFFER_SIZE): demuxers read in blocks this large.
    private static let bufferSize = 32_768

    /// nil when FFmpeg cannot allocate the context (out of memory).
    init?(_ storage: Storage) {
        self.storage = storage
        switch storage {
        case .borrowed(let bytes): size = Int64(bytes.count)
        case .array(let bytes): size = Int64(bytes.count)
        case .descriptor: size = 0
        }
        guard let opened = Self.makeContext(self) else { return nil }
        context = opened
    }

    /// A descriptor of `size` bytes.
    init?(descriptor: Int32, size: Int64) {
        storage = .descriptor(FileDescriptor(rawValue: descriptor))
        self.size = max(0, size)
        guard let opened = Self.makeContext(self) else { return nil }
        context = opened
    }

    /// `MediaSource`'s storage.
    convenience init?(_ source: MediaSource) {
        switch source {
        case .bytes(let bytes): self.init(.array(bytes))
        case .descriptor(let fd, let size): self.init(descriptor: fd, size: size)
        }
    }

    private static func makeContext(_ input: MediaInput) -> UnsafeMutablePointer<AVIOContext>? {
        // FFmpeg may replace this buffer with one of its own: freed through the context at the end.
        guard let buffer = av_malloc(bufferSize) else { return nil }
        let opaque = Unmanaged.passUnretained(input).toOpaque()
        let context = avio_alloc_context(buffer.assumingMemoryBound(to: UInt8.self), Int32(bufferSize), 0, opaque,
            { opaque, buffer, size in
                Unmanaged<MediaInput>.fromOpaque(opaque!).takeUnretainedValue().readCallback(into: buffer, size: size)
            }, nil,
            { opaque, offset, whence in
                Unmanaged<MediaInput>.fromOpaque(opaque!).takeUnretainedValue().seek(offset, whence: whence)
            })
        if context == nil { av_free(buffer) }
        return context
    }

    deinit {
        // nil when init failed after its other properties were set.
        guard let existing = self.context else { return }
        var context: UnsafeMutablePointer<AVIOContext>? = existing
        av_freep(&existing.pointee.buffer)
        avio_context_free(&context)
    }

    /// Copies up to `buffer.count` bytes from `offset` (never past `size`): the count copied, 0 at
    /// the end, nil when the descriptor cannot be read (`readFailure` says why).
    func read(at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) -> Int? {
        guard offset >= 0, offset < size, let base = buffer.baseAddress, !buffer.isEmpty else { return 0 }
        let n = Int(min(Int64(buffer.count), size - offset))
        switch storage {
        case .borrowed(let bytes):
            base.copyMemory(from: bytes.baseAddress! + Int(offset), byteCount: n)
            return n
        case .array(let bytes):
            bytes.withUnsafeBytes { base.copyMemory(from: $0.baseAddress! + Int(offset), byteCount: n) }
            return n
        case .descriptor(let fd):
            var done = 0
            while done < n {  // pread may return less than asked (a pipe-backed or network file)
                let chunk = UnsafeMutableRawBufferPointer(start: base + done, count: n - done)
                do {
                    let got = try fd.read(fromAbsoluteOffset: offset + Int64(done), into: chunk)
                    if got == 0 { break }  // the file is shorter than the size given: reads as a cut file
                    done += got
                } catch {
                    readFailure = readFailure ?? error
                    return nil
                }
            }
            return done
        }
    }

    /// Up to `count` bytes from `offset`: fewer at the end, or when the descriptor fails.
    func bytes(at offset: Int64, count: Int) -> [UInt8] {
        guard offset >= 0, offset < size, count > 0 else { return [] }
        let n = Int(min(Int64(count), size - offset))
        var got = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: n) { buffer, initialized in
            got = read(at: offset, into: UnsafeMutableRawBufferPointer(buffer)) ?? 0
            initialized = got
        }
        return bytes
    }

    /// The read callback: bytes from the read position; AVERROR_EOF at the end (FFmpeg 5.1
    /// treats a 0 return as an error, not as the end), AVERROR(EIO) when the descriptor fails.
    private func readCallback(into buffer: UnsafeMutablePointer<UInt8>?, size: Int32) -> Int32 {
        guard let buffer, size > 0 else { return FFmpeg.invalidData }
        guard let n = read(at: position, into: UnsafeMutableRawBufferPointer(start: buffer, count: Int(size))) else {
            return embedd_averror_eio()
        }
        guard n > 0 else { return FFmpeg.eof }
        position += Int64(n)
        return Int32(n)
    }

    /// SEEK_SET, SEEK_CUR and SEEK_END within the bytes (0…size), and AVSEEK_SIZE (the size).
    /// A position outside the bytes is refused (a damaged header's offset), not clamped.
    private func seek(_ offset: Int64, whence: Int32) -> Int64 {
        let mode = whence & ~Int32(AVSEEK_FORCE)
        if mode & Int32(AVSEEK_SIZE) != 0 { return size }
        let origin: Int64
        switch mode {
        case 0: origin = 0          // SEEK_SET
        case 1: origin = position   // SEEK_CUR
        case 2: origin = size       // SEEK_END
        default: return Int64(FFmpeg.invalidData)
        }
        let (target, overflow) = origin.addingReportingOverflow(offset)
        guard !overflow, target >= 0, target <= size else { return Int64(FFmpeg.invalidData) }
        position = target
        return target
    }
}
