import Foundation
import Testing

/// `systemd-analyze verify` on systemd/embedd-http.service and .socket (as SystemdUnitTests
/// does for embedd's), and the gateway's side of the contract: a client of embedd's socket.
@Suite struct GatewayUnitTests {
    var gateway: String { Products.directory + "/embedd-http" }

    @Test func gatewayUnitsVerify() throws {
        let tool = "/usr/bin/systemd-analyze"
        try #require(FileManager.default.isExecutableFile(atPath: tool), "systemd-analyze is missing (apt-get install systemd)")
        try Products.require()
        try #require(FileManager.default.isExecutableFile(atPath: gateway), "\(gateway) is not built")
        let dir = NSTemporaryDirectory() + "embedd-http-units-\(getpid())"
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let service = try String(contentsOfFile: Products.repoRoot + "/systemd/embedd-http.service", encoding: .utf8)
        let socket = try String(contentsOfFile: Products.repoRoot + "/systemd/embedd-http.socket", encoding: .utf8)
        #expect(service.contains("ExecStart=/usr/bin/embedd-http "))
        func verify(_ serviceText: String) throws -> (status: Int32, output: String) {
            try serviceText.replacingOccurrences(of: "ExecStart=/usr/bin/embedd-http ", with: "ExecStart=\(gateway) ")
                .write(toFile: dir + "/embedd-http.service", atomically: true, encoding: .utf8)
            try socket.write(toFile: dir + "/embedd-http.socket", atomically: true, encoding: .utf8)
            let r = try runProgram(tool, ["verify", "--man=no", dir + "/embedd-http.service", dir + "/embedd-http.socket"], timeout: 120)
            return (r.status, r.stdout + r.stderr)
        }
        let good = try verify(service)
        let complaints = good.output.split(separator: "\n").filter { $0.contains("embedd-http.") }
        #expect(good.status == 0, "systemd-analyze verify failed:\n\(good.output)")
        #expect(complaints.isEmpty, "systemd-analyze verify warned:\n\(complaints.joined(separator: "\n"))")
        #expect(try verify(service + "\nBogusSetting=1\n").output.contains("BogusSetting"))
    }

    @Test func gatewayUnitsKeepTheContract() throws {
        let service = try String(contentsOfFile: Products.repoRoot + "/systemd/embedd-http.service", encoding: .utf8)
        let lines = Set(service.split(separator: "\n").map(String.init))
        for line in ["Type=notify", "DynamicUser=yes", "SupplementaryGroups=embedd", "LoadCredential=http-keys:/etc/embedd/http-keys",
                     "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6", "NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes",
                     "MemoryDenyWriteExecute=yes"] {
            #expect(lines.contains(line), "embedd-http.service lacks \(line)")
        }
        // It reaches embedd through its socket: no PrivateNetwork (it serves TCP) and the keys as a credential.
        #expect(!lines.contains("PrivateNetwork=yes"))
        #expect(service.contains("--api-keys %d/http-keys"))
        let socket = try String(contentsOfFile: Products.repoRoot + "/systemd/embedd-http.socket", encoding: .utf8)
        #expect(socket.contains("ListenStream=127.0.0.1:8080"))
        // The daemon's unit still has no network at all.
        let daemon = try String(contentsOfFile: Products.repoRoot + "/systemd/embedd.service", encoding: .utf8)
        #expect(daemon.contains("PrivateNetwork=yes") && daemon.contains("RestrictAddressFamilies=AF_UNIX\n"))
    }
}
