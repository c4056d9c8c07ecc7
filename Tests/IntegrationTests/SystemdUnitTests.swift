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

    /// The install recipe of docs/operations.md gives the units what they name and a user what
    /// they need (issue 25, item 4): the real plugins but not the test fixture, the models of
    /// the default configuration in its models_dir, the unit's Documentation= file, the
    /// completion, the service user, and the installing user in the socket's group.
    @Test func theInstallRecipeInstallsWhatTheUnitsAndTheConfigName() throws {
        let doc = try String(contentsOfFile: Products.repoRoot + "/docs/operations.md", encoding: .utf8)
        let section = try #require(doc.components(separatedBy: "\n## systemd\n").dropFirst().first)
        let block = try #require(section.components(separatedBy: "```sh\n").dropFirst().first?.components(separatedBy: "```").first)
        let lines = block.split(separator: "\n").map { $0.split(separator: "#", maxSplits: 1).first.map(String.init) ?? "" }
        func has(_ needles: String...) -> Bool { lines.contains { l in needles.allSatisfy { l.contains($0) } } }

        #expect(!block.contains("libembedd-*") && !block.contains("fixture.so"), "installs the test fixture plugin")
        #expect(has("install", "libembedd-text.so", "/usr/lib/embedd/plugins"))
        // Every binary the units run, and the configuration they read.
        let service = try String(contentsOfFile: Products.repoRoot + "/systemd/embedd.service", encoding: .utf8)
        #expect(service.contains("ExecStart=/usr/bin/embedd --config /etc/embedd/embedd.yaml"))
        #expect(has("install", ".build/release/embedd", "/usr/bin/") && has("etc/embedd/embedd.yaml", "/etc/embedd/embedd.yaml"))
        #expect(has("systemd/embedd.service", "systemd/embedd.socket", "/usr/lib/systemd/system/"))
        // The Documentation= file.
        let documentation = try #require(service.split(separator: "\n").first { $0.hasPrefix("Documentation=file:") })
        let docPath = String(documentation.dropFirst("Documentation=file:".count))
        #expect(docPath == "/usr/share/doc/embedd/operations.md")
        #expect(has("docs/*.md", "/usr/share/doc/embedd"))
        // The models the default configuration loads, into its models_dir, readable by the service user.
        let config = try String(contentsOfFile: Products.repoRoot + "/etc/embedd/embedd.yaml", encoding: .utf8)
        #expect(config.contains("models_dir: /var/lib/embedd/models"))
        let modelDirs = config.split(separator: "\n").compactMap { l -> String? in
            let t = l.trimmingCharacters(in: .whitespaces)
            return t.hasPrefix("model_dir: ") ? String(t.dropFirst("model_dir: ".count)) : nil
        }
        #expect(modelDirs.count == 2)
        for m in modelDirs { #expect(has("cp", "models/\(m)", "/var/lib/embedd/models"), "model \(m) is not installed") }
        #expect(has("chown", "embedd:embedd", "/var/lib/embedd/models"))
        // Users: the service user and group, the admin group the unit names, the socket's group for the installer.
        #expect(service.contains("User=embedd") && service.contains("SupplementaryGroups=embedd-admin"))
        #expect(has("useradd", "--user-group", "embedd") && has("groupadd", "embedd-admin"))
        let socket = try String(contentsOfFile: Products.repoRoot + "/systemd/embedd.socket", encoding: .utf8)
        #expect(socket.contains("SocketGroup=embedd"))
        #expect(has("usermod", "-aG embedd", "$USER"))
        #expect(has("completion bash", "/usr/share/bash-completion/completions/embedctl"))
        #expect(has("systemctl", "enable", "embedd.socket"))
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
