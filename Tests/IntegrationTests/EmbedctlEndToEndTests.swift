import EmbedClient
import EmbedWire
import Foundation
import Testing

/// The real `embedd` on a temp socket, driven by the real `embedctl` binary.
@Suite(.serialized) struct EmbedctlEndToEndTests {
    @Test func statusModelsAndPlugins() throws {
        let d = try TestDaemon(models: TestDaemon.fixtureModel() + """
          - name: broken
            plugin: no-such-plugin
            model_dir: nowhere

        """)
        let status = try d.ctl(["status"])
        #expect(status.status == 0, "\(status.stderr)")
        #expect(status.stdout.contains("serving") && status.stdout.contains(d.socketPath))
        #expect(status.stdout.contains("1 of 2 ready"))
        let json = try d.ctl(["status", "--format", "json"])
        #expect(json.status == 0)
        let obj = try JSONSerialization.jsonObject(with: json.stdoutBytes) as! [String: Any]
        #expect(obj["state"] as? String == "serving")
        let models = obj["models"] as! [[String: Any]]
        #expect(models.map { $0["name"] as! String } == ["fx", "broken"])
        #expect(models[0]["state"] as? String == "ready" && models[0]["dim"] as? Int == 16)
        #expect(models[1]["state"] as? String == "failed")
        #expect((models[1]["error"] as! String).contains("no-such-plugin"))

        let table = try d.ctl(["models"])
        #expect(table.status == 0 && table.stdout.contains("fx *") && table.stdout.contains("failed"))
        let plugins = try d.ctl(["plugins", "list", "--format", "json"])
        let list = try JSONSerialization.jsonObject(with: plugins.stdoutBytes) as! [[String: Any]]
        #expect(list.map { $0["name"] as! String } == ["fixture"])
        // Health stays SERVING although one configured model failed.
        let h = try d.client().call(.health, HealthRequest(), as: HealthResponse.self)
        #expect(h.status == .serving)
        // Embedding with the failed model explains why.
        let bad = try d.ctl(["embed", "--model", "broken", "x"])
        #expect(bad.status == 1 && bad.stderr.contains("FAILED_PRECONDITION") && bad.stderr.contains("failed to load"))
        #expect(d.stop() == 0)
    }

    @Test func embedJSONContractInInputOrder() throws {
        let d = try TestDaemon()
        let r = try d.ctl(["embed", "first text", "second text", "naïve ☕"])
        #expect(r.status == 0, "\(r.stderr)")
        let obj = try JSONSerialization.jsonObject(with: r.stdoutBytes) as! [String: Any]
        #expect(obj["model"] as? String == "fx")
        #expect(obj["dim"] as? Int == 16)
        let vectors = (obj["vectors"] as! [[NSNumber]]).map { $0.map(\.floatValue) }
        #expect(vectors.count == 3 && vectors.allSatisfy { $0.count == 16 })
        // Input order: each vector equals the vector of that text embedded alone.
        for (i, text) in ["first text", "second text", "naïve ☕"].enumerated() {
            let alone = try d.ctl(["embed", text])
            let v = ((try JSONSerialization.jsonObject(with: alone.stdoutBytes) as! [String: Any])["vectors"] as! [[NSNumber]])[0].map(\.floatValue)
            #expect(v == vectors[i], "vector \(i) is not the one of \(text)")
        }
        #expect(vectors[0] != vectors[1])
        // And they equal what the Swift client gets directly (no precision lost in JSON).
        let direct = try d.client().call(.embed, EmbedRequest(inputs: [.text("first text")]), as: EmbedResponse.self)
        #expect(direct.vectors[0].values == vectors[0])
        d.stop()
    }

    @Test func jsonInputFilesAndOrder() throws {
        let d = try TestDaemon()
        let dir = d.directory
        try #"["from json \"quoted\"", "second \u00e9"]"#.write(toFile: dir + "/in.json", atomically: true, encoding: .utf8)
        try "text file contents".write(toFile: dir + "/note.txt", atomically: true, encoding: .utf8)
        // Fixture media: "FXTR" + u32 LE length + payload.
        var media = Data("FXTR".utf8)
        var n = UInt32(5).littleEndian
        media.append(Data(bytes: &n, count: 4))
        media.append(Data("hello".utf8))
        try media.write(to: URL(fileURLWithPath: dir + "/x.fxtr"))
        let r = try d.ctl(["embed", "arg one", "--json-input", dir + "/in.json", "--file", dir + "/note.txt",
                           "--file", dir + "/x.fxtr", "arg two"])
        #expect(r.status == 0, "\(r.stderr)")
        let vectors = ((try JSONSerialization.jsonObject(with: r.stdoutBytes) as! [String: Any])["vectors"] as! [[NSNumber]])
        #expect(vectors.count == 6)
        func one(_ args: [String]) throws -> [NSNumber] {
            let x = try d.ctl(["embed"] + args)
            #expect(x.status == 0, "\(x.stderr)")
            return ((try JSONSerialization.jsonObject(with: x.stdoutBytes) as! [String: Any])["vectors"] as! [[NSNumber]])[0]
        }
        #expect(vectors[0] == (try one(["arg one"])))
        #expect(vectors[1] == (try one(["from json \"quoted\""])))
        #expect(vectors[2] == (try one(["second é"])))
        #expect(vectors[3] == (try one(["text file contents"])))
        #expect(vectors[4] == (try one(["--file", dir + "/x.fxtr"])))
        #expect(vectors[5] == (try one(["arg two"])))
        // stdin as JSON input.
        let s = try d.ctl(["embed", "--json-input", "-"], stdin: Data(#"["arg one"]"#.utf8))
        #expect(((try JSONSerialization.jsonObject(with: s.stdoutBytes) as! [String: Any])["vectors"] as! [[NSNumber]])[0] == vectors[0])
        d.stop()
    }

    @Test func npyAndTableFormats() throws {
        let d = try TestDaemon()
        let r = try d.ctl(["embed", "--format", "npy", "a", "b"])
        #expect(r.status == 0)
        let bytes = [UInt8](r.stdoutBytes)
        #expect(Array(bytes.prefix(6)) == [0x93] + Array("NUMPY".utf8))
        let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        let header = String(decoding: bytes[10..<(10 + headerLength)], as: UTF8.self)
        #expect(header.contains("'descr': '<f4'") && header.contains("'shape': (2, 16)"))
        #expect((10 + headerLength) % 64 == 0)
        #expect(bytes.count == 10 + headerLength + 2 * 16 * 4)
        let t = try d.ctl(["embed", "--format", "table", "hello"])
        #expect(t.status == 0 && t.stdout.contains("NORM") && t.stdout.contains("1.0000"))
        d.stop()
    }

    @Test func exitCodesAndErrors() throws {
        let d = try TestDaemon()
        // Usage errors: 2.
        for args in [["bogus"], ["embed"], ["status", "--format", "xml"], ["plugins", "load"], ["models", "--nope"], ["embed", "--file"]] {
            let r = try d.ctl(args)
            #expect(r.status == 2, "\(args): \(r.status) \(r.stderr)")
            #expect(r.stderr.hasPrefix("embedctl: "))
        }
        // Server errors: 1 with the server's message.
        let r = try d.ctl(["embed", "--model", "missing", "x"])
        #expect(r.status == 1 && r.stderr.contains("NOT_FOUND") && r.stderr.contains("no model named 'missing'"))
        let f = try d.ctl(["embed", "--file", d.directory + "/does-not-exist.png"])
        #expect(f.status == 1 && f.stderr.contains("does-not-exist.png"))
        let j = try d.ctl(["embed", "--json-input", "-"], stdin: Data("[1, 2]".utf8))
        #expect(j.status == 1 && j.stderr.contains("invalid JSON input at line 1, column 2"))
        // Help: 0, per command.
        for args in [["--help"], ["embed", "--help"], ["plugins", "--help"], ["plugins", "reload", "--help"], ["plugin", "check", "--help"]] {
            let h = try d.ctl(args)
            #expect(h.status == 0 && h.stdout.contains("Usage: embedctl"), "\(args)")
        }
        // No daemon: 1 with a hint.
        let gone = try runProgram(Products.embedctl, ["--socket", d.directory + "/nothing.sock", "status"])
        #expect(gone.status == 1 && gone.stderr.contains("is embedd running?"))
        // EMBEDD_SOCKET is honoured.
        let env = try runProgram(Products.embedctl, ["status"], env: ["EMBEDD_SOCKET": d.socketPath])
        #expect(env.status == 0)
        d.stop()
    }

    @Test func adminCallsNeedRootOrAdminGroup() throws {
        let d = try TestDaemon()
        // Read-only calls work for anyone who can open the socket...
        let s = try d.ctl(["status"], asNobody: true)
        #expect(s.status == 0, "\(s.stderr)")
        let e = try d.ctl(["embed", "hello"], asNobody: true)
        #expect(e.status == 0, "\(e.stderr)")
        // ...admin calls are refused for uid nobody.
        for args in [["plugins", "load", "fixture"], ["plugins", "reload", "fixture"], ["plugins", "unload", "fx"]] {
            let r = try d.ctl(args, asNobody: true)
            #expect(r.status == 1, "\(args): \(r.stdout) \(r.stderr)")
            #expect(r.stderr.contains("PERMISSION_DENIED"), "\(args): \(r.stderr)")
        }
        #expect(d.log.contains("denied LoadPlugin to pid"))
        // Root may: reload swaps the model to generation 2, unload removes it.
        let reload = try d.ctl(["plugins", "reload", "fixture", "--format", "json"])
        #expect(reload.status == 0, "\(reload.stderr)")
        let m = try JSONSerialization.jsonObject(with: reload.stdoutBytes) as! [[String: Any]]
        #expect(m.first?["generation"] as? Int == 2)
        let unload = try d.ctl(["plugins", "unload", "fx"])
        #expect(unload.status == 0, "\(unload.stderr)")
        let after = try d.ctl(["embed", "x"])
        #expect(after.status == 1)
        d.stop()
    }

    @Test func adminGroupMembersMayCallAdminMethods() throws {
        // "users" (gid 100 on Debian) as admin group: nobody holding it as a supplementary group
        // is admin; nobody without it is not; the group database is not what decides.
        try #require(UserDatabase_groupExists("users"), "group 'users' is missing")
        let d = try TestDaemon(settings: "admin_group: users")
        let denied = try d.ctl(["plugins", "reload", "fixture"], asNobody: true)
        #expect(denied.status == 1 && denied.stderr.contains("PERMISSION_DENIED"), "\(denied.stderr)")
        let allowed = try d.ctl(["plugins", "reload", "fixture"], asNobody: true, groups: ["users"])
        #expect(allowed.status == 0, "\(allowed.stderr)\n\(d.log.suffix(2000))")
        #expect(allowed.stdout.contains("reloaded fx: generation 2"))
        d.stop()
    }

    func UserDatabase_groupExists(_ name: String) -> Bool {
        (try? String(contentsOfFile: "/etc/group", encoding: .utf8))?.split(separator: "\n").contains { $0.hasPrefix(name + ":") } ?? false
    }

    @Test func pluginCheckRunsTheConformanceKit() throws {
        try Products.require()
        let dir = try FileSystem_tempDir()
        let ok = try runProgram(Products.embedctl, ["plugin", "check", Products.fixturePlugin, "--model-dir", dir, "--option", "dim=8"], timeout: 120)
        #expect(ok.status == 0, "\(ok.stdout)\(ok.stderr)")
        let bad = try runProgram(Products.embedctl, ["plugin", "check", dir + "/missing.so"])
        #expect(bad.status == 1)
        let usage = try runProgram(Products.embedctl, ["plugin", "check", Products.fixturePlugin, "--option", "novalue"])
        #expect(usage.status == 2)
    }

    func FileSystem_tempDir() throws -> String {
        let d = NSTemporaryDirectory() + "embedd-check-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }
}
