@preconcurrency import Glibc

/// What the kernel says about this process (`/proc/self`), for the `process_*` metrics that
/// Prometheus client libraries conventionally export.
public struct ProcessStats: Sendable, Equatable {
    /// Resident set size in bytes (`/proc/self/stat` field 24 × the page size).
    public var residentBytes: UInt64
    /// User plus system CPU time in seconds (fields 14 and 15, in clock ticks).
    public var cpuSeconds: Double
    /// When the process started, in seconds since the Unix epoch (boot time from `/proc/stat`
    /// plus field 22).
    public var startTimeSeconds: Double
    /// Open file descriptors (entries of `/proc/self/fd`, less the one listing them).
    public var openDescriptors: Int
    /// The soft limit on open descriptors (`RLIMIT_NOFILE`), or nil when unlimited.
    public var maxDescriptors: UInt64?

    /// Reads the current figures; nil when `/proc` is not mounted or says something unexpected.
    public static func current() -> ProcessStats? {
        guard let stat = try? FileSystem.readFile("/proc/self/stat", limit: 4096),
              let fields = afterCommand(stat), fields.count >= 22,
              let utime = UInt64(fields[11]), let stime = UInt64(fields[12]),
              let started = UInt64(fields[19]), let rssPages = UInt64(fields[21]),
              let boot = bootTime() else { return nil }
        let ticks = Double(max(1, sysconf(Int32(_SC_CLK_TCK))))
        let page = UInt64(max(1, sysconf(Int32(_SC_PAGESIZE))))
        // The directory's own descriptor (opendir) is among the entries while it is listed.
        let fds = ((try? FileSystem.contentsOfDirectory("/proc/self/fd"))?.count ?? 1) - 1
        var limit = rlimit()
        var maxFDs: UInt64? = nil
        // RLIM_INFINITY is all ones (C's -1, which Swift will not put in an unsigned).
        if getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 && limit.rlim_cur != rlim_t.max {
            maxFDs = UInt64(limit.rlim_cur)
        }
        return ProcessStats(residentBytes: rssPages * page, cpuSeconds: Double(utime + stime) / ticks,
                            startTimeSeconds: Double(boot) + Double(started) / ticks,
                            openDescriptors: max(0, fds), maxDescriptors: maxFDs)
    }

    /// The space-separated fields after the command name of a `/proc/PID/stat` line. The name
    /// is in parentheses and may itself hold spaces and parentheses: it ends at the last ')'.
    static func afterCommand(_ bytes: [UInt8]) -> [Substring]? {
        guard let close = bytes.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        let rest = String(decoding: bytes[(close + 1)...], as: UTF8.self)
        return rest.split(whereSeparator: { $0 == " " || $0 == "\n" })
    }

    /// Boot time in seconds since the epoch (`btime` of `/proc/stat`).
    static func bootTime() -> UInt64? {
        guard let bytes = try? FileSystem.readFile("/proc/stat", limit: 1 << 20) else { return nil }
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") where line.hasPrefix("btime ") {
            return line.split(separator: " ").last.flatMap { UInt64($0) }
        }
        return nil
    }
}
