import Foundation
import ViTLens
import ViTLensTestSupport

/// Runs the built `vitlens` executable and captures its output.
enum CLI {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        /// Non-empty stderr lines.
        var errorLines: [String] { stderr.split(separator: "\n").map(String.init).filter { !$0.isEmpty } }
    }

    /// The executable next to the test bundle (SwiftPM builds every product before testing).
    static let executable: URL = {
        let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for dir in [here, here.deletingLastPathComponent(), Fixtures.repositoryRoot.appendingPathComponent(".build/debug")] {
            let u = dir.appendingPathComponent("vitlens")
            if FileManager.default.isExecutableFile(atPath: u.path) { return u }
        }
        return Fixtures.repositoryRoot.appendingPathComponent(".build/debug/vitlens")
    }()

    /// Runs `vitlens args...` with `environment` added, in `directory` (default: the repository root),
    /// with a time limit.
    static func run(_ args: [String], environment: [String: String] = [:], timeout: TimeInterval = 120,
                    in directory: URL? = nil) throws -> Result {
        let p = Process()
        p.executableURL = executable
        p.arguments = args
        p.currentDirectoryURL = directory ?? Fixtures.repositoryRoot
        var env = ProcessInfo.processInfo.environment
        env["VITLENS_NO_DEBUG_WARNING"] = "1"  // tests run the debug build; its one-line warning is tested on its own
        for (k, v) in environment { env[k] = v }
        p.environment = env
        let dir = temporaryDirectory("io")
        defer { try? FileManager.default.removeItem(at: dir) }
        let outURL = dir.appendingPathComponent("stdout"), errURL = dir.appendingPathComponent("stderr")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(20_000) }
        // SIGKILL: a child may inherit a blocked SIGTERM from the test runner.
        if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
        try? out.close()
        try? err.close()
        let outData = (try? Data(contentsOf: outURL)) ?? Data()
        let errData = (try? Data(contentsOf: errURL)) ?? Data()
        return Result(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }

    /// A fresh temporary folder.
    static func temporaryDirectory(_ tag: String) -> URL {
        let u = FileManager.default.temporaryDirectory.appendingPathComponent("vitlens-cli-\(tag)-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
        return u
    }
}
