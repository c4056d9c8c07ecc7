/// The CPU's cache sizes.
public enum CPUCache {
    /// Bytes of the last-level cache that CPU 0 shares with its neighbours, or nil when the
    /// system does not say. Read from sysfs (`/sys/devices/system/cpu/cpu0/cache/index*/`,
    /// what `lscpu` shows): glibc's `sysconf(_SC_LEVEL3_CACHE_SIZE)` adds up the slices of
    /// every core complex on some AMD parts (320 MiB for the 32 MiB that one core reaches,
    /// measured on the project's EPYC VM).
    public static let lastLevelBytes: Int? = {
        var best: (level: Int, bytes: Int)?
        for index in 0..<8 {
            let dir = "/sys/devices/system/cpu/cpu0/cache/index\(index)/"
            guard let level = readNumber(dir + "level"), let size = readSize(dir + "size") else { continue }
            if best == nil || level > best!.level { best = (level, size) }
        }
        return best?.bytes
    }()

    private static func readText(_ path: String) -> String? {
        guard let bytes = try? FileSystem.readFile(path, limit: 64) else { return nil }
        return String(decoding: bytes.filter { $0 > 0x20 }, as: UTF8.self)
    }

    private static func readNumber(_ path: String) -> Int? { readText(path).flatMap { Int($0) } }

    /// "32768K", "1M" or a plain byte count.
    private static func readSize(_ path: String) -> Int? {
        guard let text = readText(path), let last = text.last else { return nil }
        let scale = switch last { case "K": 1 << 10; case "M": 1 << 20; case "G": 1 << 30; default: 1 }
        guard let n = Int(scale == 1 ? text : String(text.dropLast())), n > 0 else { return nil }
        return n * scale
    }
}
