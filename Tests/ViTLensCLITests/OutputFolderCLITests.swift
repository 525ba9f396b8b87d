import Foundation
import Testing
import ViTLens
import ViTLensTestSupport

/// Issue "hostile input", class 1 and 8: `--out`/`--force` never remove or mix files ViTLens did not write.
@Suite(.serialized) struct OutputFolderCLITests {
    let vit = Fixtures.url("models/vit-p16-cls").path
    let dino = Fixtures.url("models/dino-p8").path
    let photo = Fixtures.repositoryRoot.appendingPathComponent("photos/rocket.jpg").path

    /// A scratch folder holding a user's file and a copy of the fixture ONNX export.
    func workspace() throws -> (dir: URL, onnx: URL, keep: URL) {
        let dir = CLI.temporaryDirectory("of")
        let onnx = dir.appendingPathComponent("export/model.onnx")
        try FileManager.default.createDirectory(at: onnx.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Fixtures.url("onnx/dinov2_tiny/model.onnx"), to: onnx)
        let keep = dir.appendingPathComponent("keep.txt")
        try Data("the user's notes".utf8).write(to: keep)
        return (dir, onnx, keep)
    }

    func list(_ dir: URL) throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() }

    @Test(arguments: ["", "."])
    func forceOntoCurrentFolderDeletesNothing(_ out: String) throws {
        let w = try workspace()
        let r = try CLI.run(["import-onnx", w.onnx.path, "--out", out, "--force"], in: w.dir)
        #expect(r.status != 0)
        #expect(r.errorLines.first?.contains(out.isEmpty ? "--out is empty" : "is the current folder") == true, "\(r.stderr)")
        #expect(try list(w.dir) == ["export", "keep.txt"])
        #expect(try String(contentsOf: w.keep, encoding: .utf8) == "the user's notes")
    }

    @Test func forceOntoTheSourceFolderKeepsTheSource() throws {
        let w = try workspace()
        let before = try Data(contentsOf: w.onnx)
        let r = try CLI.run(["import-onnx", "export/model.onnx", "--out", "export", "--force"], in: w.dir)
        #expect(r.status == 1)
        #expect(r.errorLines.count == 1 && r.errorLines[0].hasSuffix("export: contains the input \(w.onnx.path): name another folder for the outputs"), "\(r.stderr)")
        #expect(try Data(contentsOf: w.onnx) == before)
        #expect(try list(w.onnx.deletingLastPathComponent()) == ["model.onnx"])
    }

    @Test func forceOntoAFolderWithForeignFilesIsRefused() throws {
        let w = try workspace()
        let target = w.dir.appendingPathComponent("mine")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        try Data("x".utf8).write(to: target.appendingPathComponent("thesis.tex"))
        let r = try CLI.run(["import-onnx", w.onnx.path, "--out", target.path, "--force"], in: w.dir)
        #expect(r.status == 1)
        #expect(r.errorLines.first?.contains("holds thesis.tex, which ViTLens did not write") == true, "\(r.stderr)")
        #expect(try list(target) == ["thesis.tex"])
    }

    @Test func forceReplacesAnEarlierImport() throws {
        let w = try workspace()
        let target = w.dir.appendingPathComponent("hf")
        #expect(try CLI.run(["import-onnx", w.onnx.path, "--out", target.path], in: w.dir).status == 0)
        let again = try CLI.run(["import-onnx", w.onnx.path, "--out", target.path], in: w.dir)
        #expect(again.status == 1)
        #expect(again.errorLines.first?.contains("use --force to replace it") == true)
        #expect(try CLI.run(["import-onnx", w.onnx.path, "--out", target.path, "--force"], in: w.dir).status == 0)
        #expect(try list(target) == [OutputFolder.manifestName, "config.json", "model.safetensors", "preprocessor_config.json"])
        #expect(try list(w.dir) == ["export", "hf", "keep.txt"])
    }

    @Test(arguments: ["", ".", "/"])
    func analysisOutputIntoCurrentOrRootIsRefused(_ out: String) throws {
        let w = try workspace()
        let r = try CLI.run(["heads", photo, "--model", vit, "--out", out], in: w.dir)
        #expect(r.status != 0)
        #expect(r.errorLines.first?.contains("--out") == true, "\(r.stderr)")
        #expect(try list(w.dir) == ["export", "keep.txt"])
    }

    @Test func homeFolderIsRefused() throws {
        let w = try workspace()
        let r = try CLI.run(["heads", photo, "--model", vit, "--out", w.dir.path], environment: ["HOME": w.dir.path])
        #expect(r.status == 1)
        #expect(r.errorLines.first?.contains("is the home folder") == true, "\(r.stderr)")
        #expect(try list(w.dir) == ["export", "keep.txt"])
    }

    @Test func staleFilesOfTheSameCommandGoOtherCommandsStay() throws {
        let out = CLI.temporaryDirectory("stale").appendingPathComponent("out")
        #expect(try CLI.run(["heads", photo, "--model", dino, "--out", out.path, "-q"]).status == 0)  // 3 heads
        #expect(try list(out).contains("head_02.png"))
        #expect(try CLI.run(["rollout", photo, "--model", vit, "--out", out.path, "-q"]).status == 0)
        #expect(try CLI.run(["heads", photo, "--model", vit, "--out", out.path, "-q"]).status == 0)   // 2 heads
        let names = try list(out)
        #expect(!names.contains("head_02.png"), "\(names)")
        #expect(names.contains("head_01.png") && names.contains("rollout.npy") && names.contains("rollout.json"), "\(names)")
        #expect(try list(out.deletingLastPathComponent()) == ["out"])
        let heads = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("heads.json"))) as? [String: Any]
        #expect((heads?["model"] as? String) == vit)
    }

    @Test func deadRunsPartialFoldersAreCleanedUp() throws {
        let root = CLI.temporaryDirectory("dead")
        let out = root.appendingPathComponent("out")
        #expect(try CLI.run(["heads", photo, "--model", vit, "--out", out.path, "-q"]).status == 0)
        var pid: Int32 = 4_000_000
        while kill(pid, 0) == 0 || errno == EPERM { pid -= 1 }
        let old = out.appendingPathComponent(".vitlens-partial-\(pid)")  // the layout before the output-folder rule
        try FileManager.default.createDirectory(at: old, withIntermediateDirectories: true)
        try Data("half".utf8).write(to: old.appendingPathComponent("head_00.png"))
        #expect(try CLI.run(["heads", photo, "--model", vit, "--out", out.path, "-q"]).status == 0)
        #expect(try !list(out).contains { $0.hasPrefix(".vitlens-partial") })
        #expect(try list(root) == ["out"])
    }

    @Test func killedRunLeavesTheEarlierSetWhole() throws {
        let root = CLI.temporaryDirectory("killed")
        let out = root.appendingPathComponent("out")
        #expect(try CLI.run(["heads", photo, "--model", vit, "--out", out.path, "-q"]).status == 0)
        let before = try list(out)
        // A run killed before its commit (SIGKILL after 0.3 s) leaves the folder as it was.
        _ = try CLI.run(["analyze", photo, "--model", dino, "--size", "448x448", "--out", out.path, "-q"], timeout: 0.3)
        #expect(try list(out) == before)
        #expect(try CLI.run(["heads", photo, "--model", vit, "--out", out.path, "-q"]).status == 0)
        #expect(try list(root) == ["out"])
    }

    @Test func twoRunsIntoOneFolderBothSucceed() async throws {
        let out = CLI.temporaryDirectory("two").appendingPathComponent("out")
        let commands = [["heads", photo, "--model", vit, "--out", out.path, "-q"], ["rollout", photo, "--model", vit, "--out", out.path, "-q"]]
        let statuses = try await withThrowingTaskGroup(of: Int32.self) { group in
            for c in commands { group.addTask { try CLI.run(c).status } }
            return try await group.reduce(into: [Int32]()) { $0.append($1) }
        }
        #expect(statuses == [0, 0])
        let manifest = try JSONDecoder().decode(OutputManifest.self, from: Data(contentsOf: out.appendingPathComponent(OutputFolder.manifestName)))
        #expect(Set(manifest.runs.map(\.command)) == ["heads", "rollout"])
        #expect(Set(try list(out)).subtracting([OutputFolder.manifestName]) == Set(manifest.runs.flatMap { $0.files.map(\.name) }))
    }
}
