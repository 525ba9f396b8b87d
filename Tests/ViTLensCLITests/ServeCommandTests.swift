import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import ViTLensTestSupport

/// `vitlens serve` as users start it: the first line is the URL with the token, the API answers
/// behind it, and bad flags are refused before anything loads.
@Suite struct ServeCommandTests {
    @Test func servePrintsItsURLAndAnswersBehindTheToken() throws {
        let dir = CLI.temporaryDirectory("serve")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("stdout")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        let p = Process()
        p.executableURL = CLI.executable
        p.arguments = ["serve", "--model", Fixtures.url("models/dinov2").path, "--model", Fixtures.url("models/bert-tiny").path, "--port", "0"]
        p.environment = ProcessInfo.processInfo.environment.merging(["VITLENS_NO_DEBUG_WARNING": "1"]) { $1 }
        p.standardOutput = try FileHandle(forWritingTo: out)
        p.standardError = FileHandle.nullDevice
        try p.run()
        defer { if p.isRunning { kill(p.processIdentifier, SIGKILL) }; p.waitUntilExit() }
        var line = ""
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, p.isRunning {
            line = String(decoding: (try? Data(contentsOf: out)) ?? Data(), as: UTF8.self)
            if line.contains("\n") { break }
            usleep(50_000)
        }
        let first = String(line.split(separator: "\n").first ?? "")
        #expect(first.hasPrefix("ViTLens explorer: http://127.0.0.1:"), "\(first)")
        let url = try #require(URL(string: String(first.dropFirst("ViTLens explorer: ".count))))
        let token = try #require(URLComponents(url: url, resolvingAgainstBaseURL: false)?.queryItems?.first { $0.name == "token" }?.value)
        #expect(token.count == 48)
        let base = "http://127.0.0.1:\(url.port ?? 0)"
        #expect(try Self.get("\(base)/api/models", token: nil).status == 403)
        let models = try Self.get("\(base)/api/models", token: token)
        #expect(models.status == 200)
        #expect(models.body.contains("\"bert\"") && models.body.contains("\"dinov2\""))
        #expect(try Self.get("\(base)/?token=\(token)", token: nil).status == 200)  // redirected to the page with the cookie
    }

    @Test func badServeFlagsAreRefusedBeforeLoading() throws {
        for (args, says) in [([], "at least one --model"), (["--model", "x", "--port", "70000"], "--port"),
                             (["--model", "x", "--max-pixels", "0"], "positive"), (["--model", "x", "--cache-memory", "lots"], "size")] {
            let r = try CLI.run(["serve"] + args)
            #expect(r.status != 0, "\(args)")
            #expect(r.stderr.contains(says), "\(args): \(r.stderr)")
        }
    }

    static func get(_ url: String, token: String?) throws -> (status: Int, body: String) {
        var request = URLRequest(url: URL(string: url)!)
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: (Int, String) = (0, "")
        URLSession.shared.dataTask(with: request) { data, response, _ in
            result = ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data ?? Data(), as: UTF8.self))
            done.signal()
        }.resume()
        _ = done.wait(timeout: .now() + 30)
        return result
    }
}
