import Testing
@preconcurrency import Glibc
@testable import EmbedSys

@Suite struct HugePageMemoryTests {
    @Test func alignedRoundedZeroedAndWritable() throws {
        let huge = HugePageMemory.hugePageSize
        let m = try HugePageMemory(byteCount: 3 * huge + 5)
        #expect(UInt(bitPattern: m.base) % UInt(huge) == 0)
        #expect(m.byteCount == 4 * huge)
        let bytes = m.base.assumingMemoryBound(to: UInt8.self)
        #expect(bytes[0] == 0 && bytes[m.byteCount - 1] == 0)
        bytes[0] = 7
        bytes[m.byteCount - 1] = 9
        #expect(bytes[0] == 7 && bytes[m.byteCount - 1] == 9)
    }

    /// Where THP is enabled (`always` or `madvise`), the advice is on the mapping: smaps shows
    /// the range as `hg` in VmFlags.
    @Test func advisedForHugePages() throws {
        let mode = (try? FileSystem.readFile("/sys/kernel/mm/transparent_hugepage/enabled")).map { String(decoding: $0, as: UTF8.self) } ?? ""
        let m = try HugePageMemory(byteCount: 1)
        let address = UInt(bitPattern: m.base)
        let smaps = String(decoding: try FileSystem.readFile("/proc/self/smaps"), as: UTF8.self)
        let lines = smaps.split(separator: "\n")
        // The mapping that contains it (the kernel may have merged it with a neighbour).
        let at = try #require(lines.firstIndex { line in
            let range = line.split(separator: " ", maxSplits: 1).first?.split(separator: "-") ?? []
            guard range.count == 2, let lo = UInt(range[0], radix: 16), let hi = UInt(range[1], radix: 16) else { return false }
            return lo <= address && address < hi
        }, "no mapping contains \(String(address, radix: 16))")
        let flags = try #require(lines[at...].first { $0.hasPrefix("VmFlags:") })
        if mode.contains("[never]") { return }  // the advice is refused where THP is off
        #expect(flags.split(separator: " ").contains("hg"), "\(flags)")
    }

    @Test func refusesAnEmptySize() {
        #expect(throws: Errno.invalidArgument) { _ = try HugePageMemory(byteCount: 0) }
    }
}
