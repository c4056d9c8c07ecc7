import Foundation
import Testing

/// `systemd-analyze verify` on systemd/embedd.service and systemd/embedd.socket.
///
/// verify needs no running systemd (it loads the units into a private manager), but it checks
/// that ExecStart's binary exists, so the test points a copy of the units at the built binary.
/// Any warning that names one of our units fails the test (verify exits 0 on unknown keys).
@Suite struct SystemdUnitTests {
    @Test func unitsVerify() throws {
        let tool = "/usr/bin/systemd-analyze"
        try #require(FileManager.default.isExecutableFile(atPath: tool), "systemd-analyze is missing (apt-get install systemd)")
        try Products.require()
        let dir = NSTemporaryDirectory() + "embedd-units-\(getpid())"
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let service = try String(contentsOfFile: Products.repoRoot + "/systemd/embedd.service", encoding: .utf8)
        let socket = try String(contentsOfFile: Products.repoRoot + "/systemd/embedd.socket", encoding: .utf8)
        #expect(service.contains("ExecStart=/usr/bin/embedd "))
        try service.replacingOccurrences(of: "ExecStart=/usr/bin/embedd ", with: "ExecStart=\(Products.embedd) ")
            .write(toFile: dir + "/embedd.service", atomically: true, encoding: .utf8)
        try socket.write(toFile: dir + "/embedd.socket", atomically: true, encoding: .utf8)
        let r = try runProgram(tool, ["verify", "--man=no", dir + "/embedd.service", dir + "/embedd.socket"], timeout: 120)
        let complaints = (r.stdout + r.stderr).split(separator: "\n").filter { $0.contains("embedd.") }
        #expect(r.status == 0, "systemd-analyze verify failed:\n\(r.stdout)\(r.stderr)")
        #expect(complaints.isEmpty, "systemd-analyze verify warned:\n\(complaints.joined(separator: "\n"))")

        // The checks above can fail: a unit with a typo must be reported.
        try (service + "\nBogusSetting=1\n").replacingOccurrences(of: "ExecStart=/usr/bin/embedd ", with: "ExecStart=\(Products.embedd) ")
            .write(toFile: dir + "/embedd.service", atomically: true, encoding: .utf8)
        let bad = try runProgram(tool, ["verify", "--man=no", dir + "/embedd.service", dir + "/embedd.socket"], timeout: 120)
        #expect((bad.stdout + bad.stderr).contains("BogusSetting"))
    }

    @Test func unitsKeepTheContract() throws {
        let service = try String(contentsOfFile: Products.repoRoot + "/systemd/embedd.service", encoding: .utf8)
        for line in ["Type=notify", "WatchdogSec=", "ExecReload=/bin/kill -HUP $MAINPID", "User=embedd", "StateDirectory=embedd",
                     "RuntimeDirectory=embedd", "ConfigurationDirectory=embedd", "NoNewPrivileges=yes", "ProtectSystem=strict",
                     "PrivateTmp=yes"] {
            #expect(service.contains(line), "embedd.service lacks \(line)")
        }
        // oneDNN JITs its kernels: W^X enforcement would break it.
        #expect(!service.split(separator: "\n").contains { $0.hasPrefix("MemoryDenyWriteExecute=yes") })
        let socket = try String(contentsOfFile: Products.repoRoot + "/systemd/embedd.socket", encoding: .utf8)
        #expect(socket.contains("ListenStream=/run/embedd/embedd.sock"))
    }

    @Test func defaultConfigPassesCheckConfig() throws {
        try Products.require()
        let r = try runProgram(Products.embedd, ["--check-config", Products.repoRoot + "/etc/embedd/embedd.yaml"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("OK (2 model(s), default all-MiniLM-L6-v2"))
        let dir = NSTemporaryDirectory() + "embedd-cc-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "socket:\n  path: /x\nlimits:\n  idle_timeout: forever\n".write(toFile: dir + "/bad.yaml", atomically: true, encoding: .utf8)
        let bad = try runProgram(Products.embedd, ["--check-config", dir + "/bad.yaml"])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("bad.yaml:4:17: limits.idle_timeout must be a duration"), "\(bad.stderr)")
        let usage = try runProgram(Products.embedd, ["--bogus"])
        #expect(usage.status == 2 && usage.stderr.contains("unknown argument"))
    }
}
