import Foundation
import Testing

/// `embedctl completion bash`, sourced by a real bash: COMP_WORDS/COMP_CWORD in, COMPREPLY out;
/// collection and model names from a real daemon; and every command's options in the script.
@Suite(.serialized) struct EmbedctlCompletionTests {
    /// The script that `embedctl completion bash` prints, in a file of its own.
    static func script() throws -> String {
        let r = try runProgram(Products.embedctl, ["completion", "bash"])
        #expect(r.status == 0, "\(r.stderr)")
        let path = NSTemporaryDirectory() + "embedctl-completion-\(UUID().uuidString).bash"
        try r.stdout.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// COMPREPLY for `words` (the last one is being completed) after sourcing `script`.
    static func complete(_ script: String, _ words: [String], env: [String: String] = [:]) throws -> [String] {
        let quoted = words.map { "'" + $0.replacingOccurrences(of: "'", with: #"'\''"#) + "'" }.joined(separator: " ")
        let r = try runProgram("/bin/bash", ["--norc", "--noprofile", "-c", """
            source '\(script)' || exit 9
            COMP_WORDS=(\(quoted)); COMP_CWORD=\(words.count - 1)
            _embedctl; printf '%s\\n' "${COMPREPLY[@]}"
            """], env: env)
        #expect(r.status == 0, "\(words): \(r.stderr)")
        return r.stdout.split(separator: "\n").map(String.init)
    }

    @Test func namesFromTheRunningDaemon() throws {
        let d = try RestartableDaemon(models: TestDaemon.fixtureModel(isDefault: true) + TestDaemon.fixtureModel(name: "fy"))
        defer { _ = d.stop() }
        for name in ["docs", "dogs", "vecs"] {
            let r = try d.ctl(["collection", "create", name, "--model", "fx"])
            #expect(r.status == 0, "\(r.stderr)")
        }
        let script = try Self.script()
        defer { try? FileManager.default.removeItem(atPath: script) }
        let ctl = Products.embedctl
        let socket = ["--socket", d.socketPath]
        #expect(try Self.complete(script, [ctl] + socket + ["search", "do"]) == ["docs", "dogs"])
        #expect(try Self.complete(script, [ctl, "add", "--socket=\(d.socketPath)", "v"]) == ["vecs"])
        #expect(try Self.complete(script, [ctl, "collection", "describe", ""], env: ["EMBEDD_SOCKET": d.socketPath]) == ["docs", "dogs", "vecs"])
        #expect(try Self.complete(script, [ctl, "get", "docs", ""] + socket).isEmpty == false)  // KEY: free-form, options offered
        #expect(try Self.complete(script, [ctl] + socket + ["embed", "--model", "f"]) == ["fx", "fy"])
        #expect(try Self.complete(script, [ctl] + socket + ["collection", "create", "c", "-m", "fy"]) == ["fy"])
        #expect(try Self.complete(script, [ctl] + socket + ["plugins", "unload", ""]) == ["fx", "fy"])
        // The hidden helper itself: names one per line; nothing, and success, without a daemon.
        let names = try runProgram(ctl, socket + ["__complete", "collections"])
        #expect(names.status == 0 && names.stdout == "docs\ndogs\nvecs\n")
        let gone = try runProgram(ctl, ["__complete", "models", "--socket", d.directory + "/nothing.sock"])
        #expect(gone.status == 0 && gone.stdout.isEmpty && gone.stderr.isEmpty)
        #expect(try Self.complete(script, [ctl, "--socket", d.directory + "/nothing.sock", "search", ""]).isEmpty)
        // Hidden from help and from completion.
        #expect(!(try runProgram(ctl, ["--help"]).stdout.contains("__complete")))
        #expect(!(try Self.complete(script, [ctl, "__"])).contains("__complete"))
    }

    @Test func registeredForAnyPathOfTheBinary() throws {
        let script = try Self.script()
        defer { try? FileManager.default.removeItem(atPath: script) }
        let r = try runProgram("/bin/bash", ["--norc", "--noprofile", "-c", "source '\(script)' && complete -p"])
        #expect(r.stdout.contains("complete -F _embedctl embedctl"), "\(r.stdout)")
        #expect(r.stdout.contains(URL(fileURLWithPath: Products.embedctl).resolvingSymlinksInPath().path), "\(r.stdout)")
        // A command word that cannot be run (a relative path from elsewhere) still completes.
        #expect(try Self.complete(script, ["./nowhere/embedctl", "coll"]) == ["collection"])
        // The loader in tools/ (README, /usr/share/bash-completion) finds embedctl on PATH.
        let dir = NSTemporaryDirectory() + "embedctl-loader-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.copyItem(atPath: Products.repoRoot + "/tools/embedctl.bash-completion", toPath: dir + "/embedctl")
        let loaded = try runProgram("/bin/bash", ["--norc", "--noprofile", "-c", """
            source '\(dir)/embedctl' || exit 9
            COMP_WORDS=(embedctl plugins ''); COMP_CWORD=2
            _embedctl; printf '%s\\n' "${COMPREPLY[@]}"
            """], env: ["PATH": Products.directory + ":/usr/bin:/bin"])
        #expect(loaded.status == 0 && loaded.stdout == "list\nload\nreload\nunload\n", "\(loaded.stdout) \(loaded.stderr)")
    }

    /// The drift guard: for every command that `--help` lists, the options its help shows are
    /// exactly the ones completion offers after "-", and the same holds for subcommands.
    @Test func everyCommandsOptionsAreCompleted() throws {
        let script = try Self.script()
        defer { try? FileManager.default.removeItem(atPath: script) }
        var queue: [[String]] = [[]]
        var visited = 0
        while let path = queue.popLast() {
            visited += 1
            let help = try runProgram(Products.embedctl, path + ["--help"])
            #expect(help.status == 0, "\(path)")
            let lines = help.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            func section(_ title: String) -> [String] {
                guard let start = lines.firstIndex(of: title) else { return [] }
                return Array(lines[(start + 1)...].prefix { $0.hasPrefix("  ") })
            }
            let subcommands = section("Subcommands:").map { String($0.dropFirst(2).prefix { $0 != " " }) }
            // "  --file, -f PATH  a file..." -> ["--file", "-f"]
            let options = section("Options:").flatMap { line -> [String] in
                let label = line.dropFirst(2).components(separatedBy: "  ")[0]
                return label.components(separatedBy: ", ").map { String($0.prefix { $0 != " " }) }
            }
            #expect(options.contains("--socket") && options.contains("--help"), "\(path)")
            let offered = try Self.complete(script, [Products.embedctl] + path + ["-"])
            #expect(Set(offered) == Set(options), "\(path): help \(options.sorted()), completion \(offered.sorted())")
            if !subcommands.isEmpty {
                #expect(try Self.complete(script, [Products.embedctl] + path + [""]) == subcommands, "\(path)")
            }
            queue += subcommands.map { path + [$0] }
        }
        #expect(visited >= 24)
    }
}
