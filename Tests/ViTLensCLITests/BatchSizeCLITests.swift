import Foundation
import Testing
import ViTLens
import ViTLensTestSupport

/// `--batch-size` on distance, heads, rollout and dump: the same files, and float arrays equal to
/// 1e-6 relative (OpenBLAS's GEMM results may depend on the row count).
@Suite(.serialized) struct BatchSizeCLITests {
    let vit = Fixtures.url("models/vit-p16-cls").path
    let never = ["VITLENS_PROGRESS": "never"]
    let photos = ["photos/grace_hopper.jpg", "photos/rocket.jpg", "photos/astronaut.png"]

    /// Every file under `dir` but the manifest, by relative path.
    func files(_ dir: URL) throws -> [String: Data] {
        var out: [String: Data] = [:]
        let e = FileManager.default.enumerator(at: dir, includingPropertiesForKeys: [.isRegularFileKey])
        while let url = e?.nextObject() as? URL {
            guard (try url.resourceValues(forKeys: [.isRegularFileKey])).isRegularFile == true,
                  url.lastPathComponent != ".vitlens-manifest.json" else { continue }
            out[String(url.path.dropFirst(dir.path.count))] = try Data(contentsOf: url)
        }
        return out
    }

    @Test(arguments: ["distance", "heads", "rollout", "dump"])
    func arraysDoNotDependOnTheBatchSize(_ command: String) throws {
        let dir = CLI.temporaryDirectory("batch-size")
        defer { try? FileManager.default.removeItem(at: dir) }
        var written: [[String: Data]] = []
        for b in ["1", "2", "8", "auto"] {
            let out = dir.appendingPathComponent("b\(b)")
            let r = try CLI.run([command] + photos + ["--model", vit, "--out", out.path, "--batch-size", b, "-q"], environment: never)
            #expect(r.status == 0, "\(command) --batch-size \(b): \(r.stderr)")
            written.append(try files(out))
        }
        #expect(written[0].count >= 3, "\(written[0].keys.sorted())")
        for other in written.dropFirst() {
            #expect(other.keys.sorted() == written[0].keys.sorted(), "\(command)")
            for (name, data) in other where name.hasSuffix(".npy") {
                guard let a = try? NPY.decode(data, file: name).tensor, let b = try? NPY.decode(written[0][name] ?? Data(), file: name).tensor else { continue }
                let scale = b.values.reduce(Float(0)) { max($0, abs($1)) }
                #expect(a.shape == b.shape && zip(a.values, b.values).allSatisfy { abs($0 - $1) <= 1e-6 * scale }, "\(command) \(name)")
            }
        }
    }

    @Test func aBadBatchSizeIsOneLine() throws {
        for bad in ["0", "257"] {
            let r = try CLI.run(["distance"] + photos + ["--model", vit, "--out", "/nonexistent", "--batch-size", bad], environment: never)
            #expect(r.status != 0)
            #expect(r.stderr.contains("--batch-size must be from 1 to 256 or auto, got \(bad)"), "\(r.stderr)")
        }
        let r = try CLI.run(["distance"] + photos + ["--model", vit, "--out", "/nonexistent", "--batch-size", "many"], environment: never)
        #expect(r.status != 0)
        #expect(r.stderr.contains("many"), "\(r.stderr)")
    }
}

/// Folders and `@list.txt` files as IMAGE arguments of the multi-image commands.
@Suite(.serialized) struct ImageFolderArgumentTests {
    let vit = Fixtures.url("models/vit-p16-cls").path
    let never = ["VITLENS_PROGRESS": "never"]

    @Test func aFolderAndAListExpandToTheirImagesSorted() throws {
        let dir = CLI.temporaryDirectory("image-folder")
        defer { try? FileManager.default.removeItem(at: dir) }
        let images = dir.appendingPathComponent("images")
        try FileManager.default.createDirectory(at: images.appendingPathComponent("nested"), withIntermediateDirectories: true)
        for (source, name) in [("photos/rocket.jpg", "b.jpg"), ("photos/astronaut.png", "nested/a.png"), ("photos/grace_hopper.jpg", ".hidden.jpg")] {
            try FileManager.default.copyItem(at: URL(fileURLWithPath: source), to: images.appendingPathComponent(name))
        }
        try Data("x".utf8).write(to: images.appendingPathComponent("notes.txt"))
        // The output folder inside the input folder: a second run does not read the first run's pictures.
        let out = images.appendingPathComponent("out")
        for _ in 0 ..< 2 {
            let r = try CLI.run(["heads", images.path, "--model", vit, "--out", out.path, "-q"], environment: never)
            #expect(r.status == 0, "\(r.stderr)")
            let folders = try FileManager.default.contentsOfDirectory(atPath: out.path).filter { !$0.hasPrefix(".") }.sorted()
            #expect(folders == ["a", "b"], "\(folders)")
        }
        let list = dir.appendingPathComponent("list.txt")
        try Data("# two photos\nimages/b.jpg\nimages/nested/a.png\n".utf8).write(to: list)
        let listed = dir.appendingPathComponent("listed")
        let r = try CLI.run(["distance", "@" + list.path, "--model", vit, "--out", listed.path, "-q"], environment: never)
        #expect(r.status == 0, "\(r.stderr)")
        let perImage = try NPY.decode(Data(contentsOf: listed.appendingPathComponent("per_image_mean_attention_distance.npy")), file: "npy").tensor
        #expect(perImage.shape.first == 2)
        let empty = dir.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let bad = try CLI.run(["rollout", empty.path, "--model", vit, "--out", dir.appendingPathComponent("o").path], environment: never)
        #expect(bad.status != 0)
        #expect(bad.stderr.split(separator: "\n").count == 1 && bad.stderr.contains("no image"), "\(bad.stderr)")
    }
}
