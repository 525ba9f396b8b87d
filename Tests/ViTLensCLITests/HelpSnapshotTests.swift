import Foundation
import Testing
import ViTLensTestSupport

/// Every `--help` text is a committed snapshot (Tests/ViTLensCLITests/Snapshots/), so an option change
/// shows up as a diff in review. A missing snapshot, or RECORD_SNAPSHOTS=1, writes the current text and
/// fails the test, so recording never passes silently.
@Suite struct HelpSnapshotTests {
    static let commands = ["", "dump", "heads", "rollout", "explain", "faithfulness", "distance", "stats", "merge", "flow", "analyze", "report", "import-onnx", "convert", "bench", "serve"]

    @Test(arguments: commands)
    func helpMatchesSnapshot(_ command: String) throws {
        let args = (command.isEmpty ? [] : [command]) + ["--help"]
        let r = try CLI.run(args, environment: ["COLUMNS": "100"])
        #expect(r.status == 0, "\(r.stderr)")
        let file = Fixtures.repositoryRoot.appendingPathComponent("Tests/ViTLensCLITests/Snapshots/\(command.isEmpty ? "vitlens" : command).txt")
        let recorded = try? String(contentsOf: file, encoding: .utf8)
        if recorded == nil || ProcessInfo.processInfo.environment["RECORD_SNAPSHOTS"] == "1" {
            try r.stdout.write(to: file, atomically: true, encoding: .utf8)
            Issue.record("recorded \(file.lastPathComponent); run again to compare")
            return
        }
        #expect(r.stdout == recorded, "`vitlens \(args.joined(separator: " "))` differs from \(file.lastPathComponent); RECORD_SNAPSHOTS=1 records it")
    }
}
