import EmbedClient
import EmbedSys
import EmbedWire
import Foundation
import Testing

/// embedctl's part of the new-user pass (issue 25, items 5, 7 and 9), through the real binary
/// and the real daemon.
@Suite(.serialized) struct EmbedctlNewUserTests {
    /// Runs `command` under script(1), which gives it a pseudo-terminal for stdin, stdout and
    /// stderr (all three come back merged in `stdout`).
    static func onATerminal(_ command: String, timeout: Double = 120) throws -> RunResult {
        try runProgram("/usr/bin/script", ["-qec", command, "/dev/null"], timeout: timeout)
    }

    /// Starts embedctl without waiting, its stdout and stderr going to files.
    final class Background {
        let process = Process()
        let outPath: String, errPath: String

        init(_ arguments: [String], directory: String, name: String) throws {
            outPath = directory + "/\(name).out"
            errPath = directory + "/\(name).err"
            _ = FileManager.default.createFile(atPath: outPath, contents: nil)
            _ = FileManager.default.createFile(atPath: errPath, contents: nil)
            process.executableURL = URL(fileURLWithPath: arguments[0])
            process.arguments = Array(arguments.dropFirst())
            var environment = ProcessInfo.processInfo.environment
            environment.removeValue(forKey: "EMBEDD_SOCKET")
            process.environment = environment
            process.standardOutput = FileHandle(forWritingAtPath: outPath)!
            process.standardError = FileHandle(forWritingAtPath: errPath)!
            process.standardInput = FileHandle.nullDevice
            try process.run()
        }

        /// Waits for exit; the status, or nil on timeout (the process is then killed).
        func wait(timeout: Double = 120) -> Int32? {
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning && Date() < deadline { usleep(10_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit(); return nil }
            return process.terminationStatus
        }

        var stdout: String { (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "" }
        var stderr: String { (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "" }
    }

    /// Waits until `collection` holds at least `n` records.
    static func waitForCount(_ client: () throws -> EmbedClient, _ collection: String, atLeast n: UInt64, timeout: Double = 60) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let c = try? client(), let count = try? c.count(collection), count >= n { return }
            usleep(20_000)
        }
        throw TestFailure("\(collection) did not reach \(n) records within \(timeout) s")
    }

    /// Writes `n` JSONL text items keyed k0, k1, ...
    static func writeJSONL(_ path: String, count n: Int) throws {
        var s = ""
        for i in 0..<n { s += "{\"key\": \"k\(i)\", \"text\": \"item number \(i) of the bulk load\"}\n" }
        try s.write(toFile: path, atomically: true, encoding: .utf8)
    }

    // MARK: Item 5

    /// A group command without its subcommand is a usage error (exit 2) with the group's help
    /// on stderr; `--help` still exits 0 with the help on stdout.
    @Test func groupCommandsWithoutASubcommandAreUsageErrors() throws {
        try Products.require()
        let socket = ["--socket", "/nonexistent/embedd.sock"]
        for group in [[], ["collection"], ["plugins"], ["plugin"], ["completion"]] {
            let name = (["embedctl"] + group).joined(separator: " ")
            let r = try runProgram(Products.embedctl, group)
            #expect(r.status == 2, "\(group): exit \(r.status)")
            #expect(r.stdout.isEmpty, "\(group): \(r.stdout)")
            #expect(r.stderr.hasPrefix("embedctl: '\(name)' needs a subcommand (one of: "), "\(group): \(r.stderr)")
            #expect(r.stderr.contains("Usage: \(name) <subcommand> [OPTIONS]"), "\(group): \(r.stderr)")
            // Group options before the missing subcommand change nothing.
            #expect(try runProgram(Products.embedctl, group + socket).status == 2, "\(group) --socket")
            let help = try runProgram(Products.embedctl, group + ["--help"])
            #expect(help.status == 0 && help.stdout.contains("Usage: \(name) <subcommand>") && help.stderr.isEmpty, "\(group) --help")
        }
    }

    /// `--format npy` refuses a terminal (exit 2, nothing sent); redirected, it writes the array.
    @Test func npyIsNotWrittenToATerminal() throws {
        let d = try TestDaemon()
        let command = "\(Products.embedctl) --socket \(d.socketPath) embed --format npy hello"
        let tty = try Self.onATerminal(command)
        #expect(tty.status == 2, "\(tty.status) \(tty.stdout)")
        #expect(tty.stdout.contains("embedctl: refusing to write binary .npy to a terminal: redirect stdout to a file (> vectors.npy)"),
                "\(tty.stdout)")
        #expect(!tty.stdout.contains("NUMPY"))
        let file = d.directory + "/v.npy"
        let redirected = try Self.onATerminal(command + " > \(file)")
        #expect(redirected.status == 0, "\(redirected.stdout)")
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: file)))
        #expect(Array(bytes.prefix(6)) == [0x93] + Array("NUMPY".utf8) && bytes.count == 128 + 16 * 4)
        d.stop()
    }

    // MARK: Item 7

    /// More inputs than the daemon takes in one call (1024) are split into calls, and the
    /// vectors come out in input order in every format; a progress bar is drawn on a terminal.
    /// The daemon announces its `limits.max_inputs_per_call` in HelloReply; embedctl's embed,
    /// add and delete keep their calls within it, whatever --batch-size says.
    @Test func callsStayWithinTheInputLimitTheDaemonAnnounces() throws {
        let d = try TestDaemon(models: TestDaemon.fixtureModel(isDefault: true), settings: "limits:\n  max_inputs_per_call: 100")
        #expect(try d.client().serverHello.maxInputsPerCall == 100)
        let texts = (0..<250).map { "text \($0)" }
        let input = d.directory + "/many.json"
        try JSONSerialization.data(withJSONObject: texts).write(to: URL(fileURLWithPath: input))
        let embed = try d.ctl(["embed", "--json-input", input, "--format", "jsonl"])
        #expect(embed.status == 0, "\(embed.stderr)")
        #expect(embed.stdout.split(separator: "\n").count == 250)
        #expect(try d.ctl(["collection", "create", "c", "--model", "fx"]).status == 0)
        let add = try d.ctl(["add", "c", "--batch-size", "400"] + texts)
        #expect(add.status == 0, "\(add.stderr)")
        let delete = try d.ctl(["delete", "c", "--format", "json"] + texts)
        #expect(delete.status == 0, "\(delete.stderr)")
        #expect(delete.stdout.contains("\"deleted\": 250"), "\(delete.stdout)")
        d.stop()
    }

    @Test func embedSplitsBigInputsAndKeepsInputOrder() throws {
        let d = try TestDaemon()
        let n = 2500
        let texts = (0..<n).map { "input \($0) of a big embed" }
        let input = d.directory + "/many.json"
        try JSONSerialization.data(withJSONObject: texts).write(to: URL(fileURLWithPath: input))

        let json = try d.ctl(["embed", "--json-input", input])
        #expect(json.status == 0, "\(json.stderr)")
        let obj = try #require(try jsonOutput(json) as? [String: Any])
        #expect(obj["model"] as? String == "fx" && obj["dim"] as? Int == 16)
        let vectors = try #require(obj["vectors"] as? [[NSNumber]]).map { $0.map(\.floatValue) }
        #expect(vectors.count == n)
        // The exact text layout of the one-call output is kept.
        #expect(json.stdout.hasPrefix("{\"model\": \"fx\", \"dim\": 16, \"vectors\": [\n  [") && json.stdout.hasSuffix("]\n]}\n"))
        let client = try d.client()
        for i in [0, 1, 255, 256, 1023, 1024, 1025, 2047, 2048, n - 1] {
            let alone = try client.embed(inputs: [.text(texts[i])])
            #expect(alone.vectors[0].values == vectors[i], "vector \(i) is not the one of its input")
        }

        // jsonl: one object per line, in order.
        let jsonl = try d.ctl(["embed", "--json-input", input, "--format", "jsonl", "--batch-size", "300"])
        #expect(jsonl.status == 0, "\(jsonl.stderr)")
        let lines = jsonl.stdout.split(separator: "\n")
        #expect(lines.count == n)
        for i in [0, 299, 300, n - 1] {
            let line = try #require(try JSONSerialization.jsonObject(with: Data(lines[i].utf8)) as? [String: Any])
            #expect(line["index"] as? Int == i)
            #expect((line["vector"] as? [NSNumber])?.map(\.floatValue) == vectors[i])
        }

        // npy: the header counts every row; the rows are the vectors in order.
        let npy = try d.ctl(["embed", "--json-input", input, "--format", "npy"])
        #expect(npy.status == 0, "\(npy.stderr)")
        let bytes = [UInt8](npy.stdoutBytes)
        let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        let header = String(decoding: bytes[10..<(10 + headerLength)], as: UTF8.self)
        #expect(header.contains("'shape': (\(n), 16)"), "\(header)")
        #expect(bytes.count == 10 + headerLength + n * 16 * 4)
        func row(_ i: Int) -> [Float] {
            (0..<16).map { j in
                let o = 10 + headerLength + (i * 16 + j) * 4
                return Float(bitPattern: UInt32(bytes[o]) | UInt32(bytes[o + 1]) << 8 | UInt32(bytes[o + 2]) << 16 | UInt32(bytes[o + 3]) << 24)
            }
        }
        #expect(row(0) == vectors[0] && row(1024) == vectors[1024] && row(n - 1) == vectors[n - 1])

        // A progress bar on a terminal (stdout redirected to a file).
        let out = d.directory + "/out.npy"
        let tty = try Self.onATerminal("\(Products.embedctl) --socket \(d.socketPath) embed --json-input \(input) --format npy > \(out)")
        #expect(tty.status == 0, "\(tty.stdout)")
        #expect(tty.stdout.contains("embedding [") && tty.stdout.contains("\(n)/\(n) 100%"), "\(tty.stdout)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == npy.stdoutBytes)
        // ...and none in a pipe.
        #expect(!npy.stderr.contains("\r") && npy.stderr.isEmpty)
        d.stop()
    }

    /// A call that fails part-way: the vectors before it are written (the json document is
    /// closed), the error says which inputs were embedded and which not, exit 1.
    @Test func embedFailingPartWaySaysWhatWasEmbedded() throws {
        let d = try TestDaemon(models: TestDaemon.fixtureModel(options: ["max_input_bytes": "200"]))
        var texts = (0..<1000).map { "short input \($0)" }
        texts[700] = String(repeating: "far too long ", count: 40)
        let input = d.directory + "/mixed.json"
        try JSONSerialization.data(withJSONObject: texts).write(to: URL(fileURLWithPath: input))
        let r = try d.ctl(["embed", "--json-input", input, "--batch-size", "100"])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.contains("embedded inputs 0-699 of 1000 (written); inputs 700-999 were not embedded"), "\(r.stderr)")
        let obj = try #require(try jsonOutput(r) as? [String: Any])
        #expect((obj["vectors"] as? [[NSNumber]])?.count == 700)
        // All in one call (the old way) still fails as a whole, with the daemon's reason alone.
        let one = try d.ctl(["embed", "--json-input", input, "--batch-size", "1000"])
        #expect(one.status == 1 && one.stdout.isEmpty && !one.stderr.contains("embedded inputs"), "\(one.stderr)")
        d.stop()
    }

    // MARK: Item 9

    /// Ctrl-C during `add`: sending stops, one summary (stored, skipped, not sent) and the exact
    /// command to resume; running that command stores the rest.
    @Test func ctrlCStopsAddWithASummaryAndTheResumeCommand() throws {
        let d = try RestartableDaemon(models: TestDaemon.fixtureModel(options: ["delay_us": "2000"], isDefault: true))
        #expect(try d.ctl(["collection", "create", "docs", "--model", "fx"]).status == 0)
        let n = 2000
        let items = d.directory + "/big items.jsonl"  // a space: the resume command must quote it
        try Self.writeJSONL(items, count: n)
        let add = try Background([Products.embedctl, "--socket", d.socketPath, "add", "docs", "--jsonl", items, "--batch-size", "16"],
                                 directory: d.directory, name: "add")
        try Self.waitForCount({ try d.client() }, "docs", atLeast: 64)
        kill(add.process.processIdentifier, SIGINT)
        let status = add.wait()
        #expect(status == 130, "exit \(String(describing: status)): \(add.stderr)")
        let err = add.stderr
        let stored = try d.client().count("docs")
        #expect(stored > 0 && stored < UInt64(n), "\(stored)")
        #expect(err.contains("embedctl: interrupted: sending no more"), "\(err)")
        #expect(err.contains("embedctl: interrupted: stored \(stored), skipped 0, failed 0, not sent \(UInt64(n) - stored) of \(n) items"),
                "\(err)")
        let resumeLine = try #require(err.split(separator: "\n").first { $0.hasPrefix("to resume: ") }, "\(err)")
        let resume = String(resumeLine.dropFirst("to resume: ".count))
        #expect(resume == "\(Products.embedctl) --socket \(d.socketPath) add docs --jsonl '\(items)' --batch-size 16 --skip-existing")
        #expect(add.stdout.contains("stored \(stored), failed 0, not sent \(UInt64(n) - stored) of \(n) items in collection docs"), "\(add.stdout)")
        #expect(!add.stdout.contains("k1999"), "no line per key")

        let again = try runProgram("/bin/sh", ["-c", resume], timeout: 300)
        #expect(again.status == 0, "\(again.stdout) \(again.stderr)")
        #expect(again.stdout.contains("stored \(UInt64(n) - stored), skipped \(stored) existing, failed 0 of \(n) items"), "\(again.stdout)")
        #expect(try d.client().count("docs") == UInt64(n))
        _ = d.stop()
    }

    /// The daemon going away mid-load: one summary line (not a line per key) and the resume
    /// command; the progress bar shows an ETA and never counts what was not answered.
    @Test func aDaemonThatGoesAwayMidLoadGivesOneSummaryLine() throws {
        let d = try RestartableDaemon(models: TestDaemon.fixtureModel(options: ["delay_us": "2000"], isDefault: true))
        #expect(try d.ctl(["collection", "create", "docs", "--model", "fx"]).status == 0)
        let n = 2000
        let items = d.directory + "/items.jsonl"
        try Self.writeJSONL(items, count: n)
        // On a terminal (script(1)), so the progress bar is drawn; everything lands in `.out`.
        let command = "\(Products.embedctl) --socket \(d.socketPath) add docs --jsonl \(items) --batch-size 16"
        let add = try Background(["/usr/bin/script", "-qec", command, "/dev/null"], directory: d.directory, name: "add")
        try Self.waitForCount({ try d.client() }, "docs", atLeast: 200)
        d.kill9()
        let status = add.wait()
        #expect(status == 1, "exit \(String(describing: status)): \(add.stdout)")
        let out = add.stdout
        // (In Swift "\r\n" is one Character: drop the carriage returns before splitting.)
        let lines = out.replacingOccurrences(of: "\r", with: "").split(separator: "\n")
        #expect(lines.count < 12, "one line per key? \(lines.count) lines:\n\(out.suffix(3000))")
        let summary = lines.filter { $0.contains("embedctl: stopped: the server closed the connection: ") && $0.contains(" of \(n) items not stored (stored ") }
        #expect(summary.count == 1, "\(out.suffix(3000))")
        #expect(summary.first?.contains("sent but not acknowledged (may or may not be stored)") == true, "\(summary)")
        #expect(lines.contains { $0.contains("stored ") && $0.contains(", failed 0, not acknowledged ") && $0.contains(", not sent ") }, "\(out.suffix(3000))")
        let resume = lines.filter { $0.hasPrefix("to resume: ") }
        #expect(resume == ["to resume: \(command) --skip-existing"], "\(out.suffix(3000))")
        #expect(out.contains(" eta "), "the bar shows an ETA: \(out.prefix(2000))")
        #expect(!out.contains("\(n)/\(n)"), "the bar counted what was never answered: \(out.suffix(3000))")

        // Restart and resume: every key is there.
        try d.start()
        let again = try d.ctl(["add", "docs", "--jsonl", items, "--batch-size", "16", "--skip-existing"])
        #expect(again.status == 0, "\(again.stdout) \(again.stderr)")
        #expect(try d.client().count("docs") == UInt64(n))
        _ = d.stop()
    }

    /// The resume command keeps the words as the shell needs them.
    @Test func resumeCommandQuoting() throws {
        // (Through the binary: `add` with no daemon fails before anything is sent, so this is
        // checked on the summary of an interrupted run above; here only the flag placement.)
        let d = try RestartableDaemon(models: TestDaemon.fixtureModel(options: ["delay_us": "3000"], isDefault: true))
        #expect(try d.ctl(["collection", "create", "docs", "--model", "fx"]).status == 0)
        let texts = (0..<600).map { "-text \($0)'s" }
        let add = try Background([Products.embedctl, "--socket", d.socketPath, "add", "docs", "--batch-size", "8", "--"] + texts,
                                 directory: d.directory, name: "dashes")
        try Self.waitForCount({ try d.client() }, "docs", atLeast: 16)
        kill(add.process.processIdentifier, SIGINT)
        #expect(add.wait() == 130, "\(add.stderr)")
        let line = try #require(add.stderr.split(separator: "\n").first { $0.hasPrefix("to resume: ") }, "\(add.stderr)")
        #expect(line.hasPrefix("to resume: \(Products.embedctl) --socket \(d.socketPath) add docs --batch-size 8 --skip-existing -- '-text 0'\\''s' "),
                "\(line.prefix(300))")
        let again = try runProgram("/bin/sh", ["-c", String(line.dropFirst("to resume: ".count))], timeout: 300)
        #expect(again.status == 0, "\(again.stdout) \(again.stderr)")
        #expect(try d.client().count("docs") == 600)
        _ = d.stop()
    }
}
