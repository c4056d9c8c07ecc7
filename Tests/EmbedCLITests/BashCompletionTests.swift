import EmbedCLI
import Foundation
import Testing

/// The generated bash script, sourced by a real bash: COMP_WORDS/COMP_CWORD in, COMPREPLY out.
@Suite struct BashCompletionTests {
    /// A directory with the script and a fake `toyctl` that answers `__complete things` with
    /// two names and logs its arguments (to see what the script passes on).
    final class Fixture {
        let dir: String
        var program: String { dir + "/toyctl" }
        var log: String { dir + "/calls.log" }

        init() throws {
            dir = NSTemporaryDirectory() + "embedcli-completion-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try """
            #!/bin/bash
            echo "$*" >> '\(dir)/calls.log'
            [[ $1 == __complete && $2 == things ]] && printf 'alpha\\nalpine\\nbeta\\n'
            exit 0
            """.write(toFile: program, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: program)
            try BashCompletion.script(root: Toy.root, executable: program).write(toFile: dir + "/toyctl.bash", atomically: true, encoding: .utf8)
            for f in ["data.txt", "data.json", "lib.so"] { _ = FileManager.default.createFile(atPath: dir + "/" + f, contents: Data()) }
        }

        deinit { try? FileManager.default.removeItem(atPath: dir) }

        /// COMPREPLY for the words (the last one is being completed), run in `dir`.
        func complete(_ words: [String]) throws -> [String] {
            let quoted = words.map { "'" + $0.replacingOccurrences(of: "'", with: #"'\''"#) + "'" }.joined(separator: " ")
            let script = """
            cd '\(dir)' && source ./toyctl.bash || exit 9
            COMP_WORDS=(\(quoted)); COMP_CWORD=\(words.count - 1)
            _toyctl; printf '%s\\n' "${COMPREPLY[@]}"
            """
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/bash")
            p.arguments = ["--norc", "--noprofile", "-c", script]
            let out = Pipe()
            p.standardOutput = out
            try p.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            #expect(p.terminationStatus == 0, "\(words)")
            return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
        }
    }

    @Test func subcommandsOptionsAndValues() throws {
        let f = try Fixture()
        #expect(try f.complete(["toyctl", ""]) == ["put", "more"])  // not the hidden __complete
        #expect(try f.complete(["toyctl", "m"]) == ["more"])
        #expect(try f.complete(["toyctl", "more", ""]) == ["get", "drop"])
        #expect(try f.complete(["toyctl", "--socket", "/s", "more", "g"]) == ["get"])
        #expect(try f.complete(["toyctl", "put", "x", "--"]) == ["--shape", "--loud", "--count", "--file", "--tag", "--dry-run", "--socket", "--help"])
        #expect(try f.complete(["toyctl", "put", "x", "-"]).contains("-n"))
        #expect(try f.complete(["toyctl", "put", "x", "--shape", ""]) == ["round", "square"])
        #expect(try f.complete(["toyctl", "put", "x", "--shape", "s"]) == ["square"])
        // --opt=value, however readline split it.
        #expect(try f.complete(["toyctl", "put", "x", "--shape=r"]) == ["round"])
        #expect(try f.complete(["toyctl", "put", "x", "--shape", "=", "r"]) == ["round"])
        #expect(try f.complete(["toyctl", "put", "x", "--shape", "="]) == ["round", "square"])
        // A value is not taken for a positional: after "--count 3" the next word is still TEXT.
        #expect(try f.complete(["toyctl", "put", "x", "--count", "3", "--sh"]) == ["--shape"])
        #expect(try f.complete(["toyctl", "put", "x", "--count", ""]) == [])
        // Files for file-valued options; a free-form argument offers the options.
        #expect(try f.complete(["toyctl", "put", "x", "--file", "data."]).sorted() == ["data.json", "data.txt"])
        #expect(try f.complete(["toyctl", "put", "x", "-f", "li"]) == ["lib.so"])
        #expect(try f.complete(["toyctl", "put", "x", ""]).contains("--dry-run"))
        // After --, only positionals.
        #expect(try f.complete(["toyctl", "put", "x", "--", "--"]) == [])
    }

    @Test func dynamicNamesComeFromTheProgramWithTheLinesSocket() throws {
        let f = try Fixture()
        #expect(try f.complete([f.program, "put", "al"]) == ["alpha", "alpine"])
        #expect(try f.complete([f.program, "--socket", "/tmp/s1", "put", ""]) == ["alpha", "alpine", "beta"])
        #expect(try f.complete([f.program, "put", "--socket=/tmp/s2", "b"]) == ["beta"])
        let calls = try String(contentsOfFile: f.log, encoding: .utf8).split(separator: "\n")
        #expect(calls == ["__complete things", "__complete things --socket /tmp/s1", "__complete things --socket=/tmp/s2"])
        // The command word as typed is not runnable: the script falls back to the program's path.
        #expect(try f.complete(["./no/such/toyctl", "put", "be"]) == ["beta"])
    }

    @Test func registeredForTheNameAndThePaths() throws {
        let script = BashCompletion.script(root: Toy.root, executable: "/opt/it's/toyctl", alsoRegisterFor: ["toyctl-dev", "toyctl"])
        #expect(script.hasSuffix("complete -F _toyctl 'toyctl' 'toyctl-dev' '/opt/it'\\''s/toyctl'\n"))
    }

    /// Every option, subcommand and choice of the tree is in the script, so it cannot lag behind.
    @Test func everyDeclarationIsInTheScript() throws {
        let script = BashCompletion.script(root: Toy.root, executable: nil)
        for (path, command) in Toy.root.walk() where !command.hidden {
            let key = path.dropFirst().joined(separator: " ")
            let line = try #require(script.split(separator: "\n").first { $0.hasPrefix("    '\(key)')") }, "\(key)")
            for o in command.options { for name in o.names { #expect(line.contains(" " + name + " ") || line.contains("'" + name + " "), "\(key) \(name)") } }
            for s in command.visibleSubcommands { #expect(line.contains(s.name), "\(key) \(s.name)") }
            for o in command.options where !o.choices.isEmpty { #expect(script.contains("words:" + o.choices.joined(separator: " "))) }
        }
    }
}
