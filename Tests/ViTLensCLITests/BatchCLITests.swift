import Foundation
import Testing
import ViTLens
import ViTLensTestSupport

/// Many images for heads, rollout, dump and distance: subfolders, failures that do not stop the
/// batch, progress bars and `--quiet`.
@Suite(.serialized) struct BatchCLITests {
    let vit = Fixtures.url("models/vit-p16-cls").path
    let never = ["VITLENS_PROGRESS": "never"]

    /// A temporary folder holding a truncated JPEG (`broken.jpg`).
    func folderWithBrokenJPEG() throws -> URL {
        let dir = CLI.temporaryDirectory("batch")
        let jpeg = try Data(contentsOf: Fixtures.repositoryRoot.appendingPathComponent("photos/rocket.jpg"))
        try jpeg.prefix(jpeg.count / 3).write(to: dir.appendingPathComponent("broken.jpg"))
        return dir
    }

    func names(_ dir: URL) -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).sorted() }

    @Test func oneBrokenImageOfThreeIsReportedAndTheOthersAreWritten() throws {
        let dir = try folderWithBrokenJPEG()
        defer { try? FileManager.default.removeItem(at: dir) }
        let broken = dir.appendingPathComponent("broken.jpg").path, out = dir.appendingPathComponent("out")
        let r = try CLI.run(["heads", "photos/grace_hopper.jpg", broken, "photos/rocket.jpg", "--model", vit, "--out", out.path], environment: never)
        #expect(r.status == 1, "\(r.stderr)")
        #expect(names(out) == [".vitlens-manifest.json", "failures.csv", "grace_hopper", "rocket"])
        for folder in ["grace_hopper", "rocket"] {
            #expect(names(out.appendingPathComponent(folder)).contains("heads.json"))
            let stack = try NPY.read(out.appendingPathComponent("\(folder)/cls_attention.npy")).tensor
            #expect(stack.shape == [2, 14, 14])
        }
        let csv = try String(contentsOf: out.appendingPathComponent("failures.csv"), encoding: .utf8)
        let rows = csv.split(separator: "\n")
        #expect(rows.count == 2 && rows[0] == "file,reason" && rows[1].hasPrefix("\(broken),"), "\(csv)")
        #expect(rows[1].contains("truncated"), "\(csv)")
        #expect(r.errorLines.suffix(2) == ["1 of 3 images failed:", "  \(broken): \(rows[1].dropFirst(broken.count + 1))"], "\(r.stderr)")
        #expect(r.errorLines.count == 2, "no progress with VITLENS_PROGRESS=never: \(r.stderr)")
        #expect(r.stdout.contains("grace_hopper/") && r.stdout.contains("in 2 folders and failures.csv"), "\(r.stdout)")
        // The manifest lists the nested files, so a second run into the folder is accepted and replaces them.
        let manifest = try String(contentsOf: out.appendingPathComponent(".vitlens-manifest.json"), encoding: .utf8)
        #expect(manifest.contains("\"rocket/heads.json\""))
        let again = try CLI.run(["heads", "photos/grace_hopper.jpg", "photos/rocket.jpg", "--model", vit, "--out", out.path, "-q"], environment: never)
        #expect(again.status == 0 && again.stderr.isEmpty, "\(again.stderr)")
        #expect(names(out) == [".vitlens-manifest.json", "grace_hopper", "rocket"])
    }

    @Test func clashingNamesGetDistinctFolders() throws {
        let dir = try folderWithBrokenJPEG()
        defer { try? FileManager.default.removeItem(at: dir) }
        let other = dir.appendingPathComponent("other")
        try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
        let root = Fixtures.repositoryRoot
        try FileManager.default.copyItem(at: root.appendingPathComponent("photos/rocket.jpg"), to: other.appendingPathComponent("rocket.jpg"))
        try FileManager.default.copyItem(at: root.appendingPathComponent("photos/astronaut.png"), to: other.appendingPathComponent("rocket.png"))
        let out = dir.appendingPathComponent("out")
        let r = try CLI.run(["rollout", "photos/rocket.jpg", other.appendingPathComponent("rocket.jpg").path, other.appendingPathComponent("rocket.png").path,
                             "--model", vit, "--out", out.path, "-q"], environment: never)
        #expect(r.status == 0 && r.stdout.isEmpty && r.stderr.isEmpty, "\(r.stderr)")
        #expect(names(out) == [".vitlens-manifest.json", "rocket_jpg", "rocket_jpg-2", "rocket_png"])
        let a = try NPY.read(out.appendingPathComponent("rocket_jpg/rollout.npy")).tensor
        let b = try NPY.read(out.appendingPathComponent("rocket_jpg-2/rollout.npy")).tensor
        #expect(a.values == b.values, "the same photo gives the same rollout")
    }

    @Test func oneImageKeepsTheFlatLayout() throws {
        let out = CLI.temporaryDirectory("single")
        defer { try? FileManager.default.removeItem(at: out) }
        let r = try CLI.run(["rollout", "photos/rocket.jpg", "--model", vit, "--out", out.path], environment: ["VITLENS_PROGRESS": "always"])
        #expect(r.status == 0 && r.stderr.isEmpty, "no bar for one image: \(r.stderr)")
        #expect(names(out) == [".vitlens-manifest.json", "rollout.json", "rollout.npy", "rollout.png"])
    }

    @Test func quietPrintsNothingOnSuccess() throws {
        for environment in [[:], ["VITLENS_PROGRESS": "always"]] {
            let out = CLI.temporaryDirectory("quiet")
            defer { try? FileManager.default.removeItem(at: out) }
            let r = try CLI.run(["dump", "photos/rocket.jpg", "photos/astronaut.png", "--model", vit, "--out", out.path, "--quiet"], environment: environment)
            #expect(r.status == 0 && r.stdout.isEmpty && r.stderr.isEmpty, "\(environment): \(r.stdout) \(r.stderr)")
            #expect(names(out) == [".vitlens-manifest.json", "astronaut", "rocket"])
            #expect(names(out.appendingPathComponent("rocket")).contains("attentions.npy"))
        }
    }

    @Test func progressIsABarWhenForcedAndLinesInLogs() throws {
        let out = CLI.temporaryDirectory("bar")
        defer { try? FileManager.default.removeItem(at: out) }
        let images = ["photos/rocket.jpg", "photos/astronaut.png", "photos/grace_hopper.jpg"]
        let bar = try CLI.run(["rollout"] + images + ["--model", vit, "--out", out.path], environment: ["VITLENS_PROGRESS": "always", "COLUMNS": "90"])
        #expect(bar.status == 0, "\(bar.stderr)")
        let draws = bar.stderr.split(separator: "\r").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
        #expect(draws.contains { $0.contains("] 1/3 33% ") && $0.contains(" img/s ") && $0.contains(" ETA ") }, "\(draws)")
        #expect(draws.last?.contains("] 3/3 100% ") == true && draws.allSatisfy { $0.count <= 89 }, "\(draws)")
        #expect(bar.stderr.hasSuffix("\n"))
        // Not a terminal and no override: one plain line per image.
        let log = try CLI.run(["rollout"] + images + ["--model", vit, "--out", out.path])
        #expect(log.status == 0, "\(log.stderr)")
        #expect(!log.stderr.contains("\r"))
        #expect(log.errorLines.count == 3 && log.errorLines[0].hasPrefix("[1/3] photos/rocket.jpg (") && log.errorLines[0].contains("ETA"), "\(log.stderr)")
        #expect(log.errorLines[2].hasPrefix("[3/3] photos/grace_hopper.jpg ("), "\(log.stderr)")
        // A bad setting is an argument error.
        let bad = try CLI.run(["rollout", "photos/rocket.jpg", "--model", vit, "--out", out.path], environment: ["VITLENS_PROGRESS": "sometimes"])
        #expect(bad.status == 64 && bad.stderr.contains("VITLENS_PROGRESS must be always, never or auto, got 'sometimes'"), "\(bad.stderr)")
    }

    @Test func distanceAveragesTheSuccessesAndRecordsTheFailure() throws {
        let dir = try folderWithBrokenJPEG()
        defer { try? FileManager.default.removeItem(at: dir) }
        let broken = dir.appendingPathComponent("broken.jpg").path, out = dir.appendingPathComponent("out")
        let r = try CLI.run(["distance", "photos/rocket.jpg", broken, "photos/astronaut.png", "--model", vit, "--out", out.path], environment: never)
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.errorLines.first == "1 of 3 images failed:" && r.errorLines.count == 2, "\(r.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("distance.json"))) as? [String: Any]
        #expect(json?["input_count"] as? Int == 2)
        #expect(json?["failed"] as? [String] == [broken])
        let failures = json?["failures"] as? [[String: String]]
        #expect(failures?.first?["file"] == broken && failures?.first?["reason"]?.contains("truncated") == true)
        #expect(try NPY.read(out.appendingPathComponent("per_image_mean_attention_distance.npy")).tensor.shape.first == 2)
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("failures.csv").path))
    }

    @Test func everyImageFailingWritesNothing() throws {
        let dir = try folderWithBrokenJPEG()
        defer { try? FileManager.default.removeItem(at: dir) }
        let broken = dir.appendingPathComponent("broken.jpg").path, out = dir.appendingPathComponent("out")
        for command in ["heads", "distance"] {
            let r = try CLI.run([command, broken, "missing.jpg", "--model", vit, "--out", out.path], environment: never)
            #expect(r.status == 1, "\(r.stderr)")
            #expect(r.errorLines.first == "2 of 2 images failed:" && r.errorLines.last == "nothing was written to \(out.path)", "\(r.stderr)")
            #expect(r.errorLines.contains("  missing.jpg: no such file"), "\(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out.path))
        }
    }

    @Test func anOptionErrorStopsTheBatch() throws {
        let out = CLI.temporaryDirectory("stop")
        try? FileManager.default.removeItem(at: out)
        let r = try CLI.run(["heads", "photos/rocket.jpg", "photos/astronaut.png", "--layer", "9", "--model", vit, "--out", out.path], environment: never)
        #expect(r.status == 1 && r.errorLines.count == 1 && r.stderr.contains("--layer 9 is out of range"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }
}
