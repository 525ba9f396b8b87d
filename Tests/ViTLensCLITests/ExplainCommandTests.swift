import Foundation
import Testing
import ViTLens
import ViTLensTestSupport

/// `vitlens explain`: the files it writes (equal to ``ExplainJob`` run in-process), batches, text,
/// and one-line errors with a non-zero exit for bad targets.
@Suite(.serialized) struct ExplainCommandTests {
    let vit = Fixtures.url("models/vit-p16-cls").path
    let dino = Fixtures.url("models/dinov2").path
    let bert = Fixtures.url("models/bert-tiny").path

    func out(_ tag: String) -> URL { CLI.temporaryDirectory("explain-\(tag)") }

    @Test func labelTargetWritesTheJobsFiles() throws {
        let dir = out("label")
        let r = try CLI.run(["explain", "photos/grace_hopper.jpg", "--model", vit, "--size", "32x48", "--target", "label:admiral",
                             "--method", "chefer", "--out", dir.path])
        #expect(r.status == 0, "\(r.stderr)")
        let written = try NPY.read(dir.appendingPathComponent("relevance.npy"))
        #expect(written.dtype == "<f4" && written.shape == [2, 3])
        let session = try AnalysisSession(model: vit)
        var job = ExplainJob()
        job.target = .classIndex(3)
        let expected = try job.explain(session, try session.image(at: Fixtures.repositoryRoot.appendingPathComponent("photos/grace_hopper.jpg"), size: (32, 48)))
        // Tolerance: see ExplainJobTests (BLAS work split under concurrent suites).
        #expect(compare(written.tensor, expected.explanation.map).within(.attention))
        let json = try String(contentsOf: dir.appendingPathComponent("explain.json"), encoding: .utf8)
        #expect(json.contains("\"class_index\" : 3") && json.contains("\"target\" : \"label:admiral\"") && json.contains("\"method\" : \"chefer\""))
        #expect(json.contains("\"target_value\" : "))
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("relevance.png").path))
        #expect(r.stdout.contains("class 3 \"admiral\""))
    }

    /// `similar:` with the image itself: exit 0, one warning line on stderr, `gradient_zero: true`.
    @Test func selfSimilarityWarnsOnStderr() throws {
        let dir = out("self")
        let r = try CLI.run(["explain", "photos/rocket.jpg", "--model", dino, "--target", "similar:photos/rocket.jpg", "--out", dir.path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.errorLines.filter { $0.hasPrefix("warning: ") }.count == 1 && r.stderr.contains("is zero"), "\(r.stderr)")
        let json = try String(contentsOf: dir.appendingPathComponent("explain.json"), encoding: .utf8)
        #expect(json.contains("\"gradient_zero\" : true") && json.contains("\"recompute\" : false"))
    }

    /// `--recompute`: the budget checks the reduced tape (a `--max-memory` between the two estimates
    /// refuses the stored pass on one line and runs the recomputed one) and the map is the same.
    @Test func recomputeFitsASmallerBudget() throws {
        let model = Fixtures.url("models/dino-p8").path
        let vision = try ModelLoader.loadVision(try ModelLocator.resolve(model))
        let adapter = GradientConsumerAdapter(AttentionGradientAccumulator())
        let stored = vision.gradientMemoryEstimate(height: 240, width: 240, observer: adapter).total
        let recomputed = vision.gradientMemoryEstimate(height: 240, width: 240, recompute: true, observer: adapter).total
        let limit = String((stored + recomputed) / 2)
        let args = ["explain", "photos/rocket.jpg", "--model", model, "--size", "240x240", "--max-memory", limit, "--target", "similar:photos/astronaut.png"]
        let refused = try CLI.run(args + ["--out", out("budget-stored").path])
        #expect(refused.status != 0 && refused.errorLines.count == 1 && refused.stderr.contains("rocket.jpg"), "\(refused.stderr)")
        let dir = out("budget-recompute")
        let r = try CLI.run(args + ["--recompute", "--out", dir.path])
        #expect(r.status == 0, "\(r.stderr)")
        let plain = out("budget-plain")
        #expect(try CLI.run(["explain", "photos/rocket.jpg", "--model", model, "--size", "240x240", "--target", "similar:photos/astronaut.png",
                             "--out", plain.path]).status == 0)
        let a = try NPY.read(dir.appendingPathComponent("relevance.npy")).tensor, b = try NPY.read(plain.appendingPathComponent("relevance.npy")).tensor
        #expect(a.shape == [30, 30] && compare(a, b).within(.attention))
        #expect(try String(contentsOf: dir.appendingPathComponent("explain.json"), encoding: .utf8).contains("\"recompute\" : true"))
    }

    @Test func manyImagesAndAttnGrad() throws {
        let dir = out("batch")
        let r = try CLI.run(["explain", "photos/rocket.jpg", "photos/astronaut.png", "--model", vit, "--size", "32x32", "--method", "attn-grad",
                             "--first-layer=-1", "--out", dir.path])
        #expect(r.status == 0, "\(r.stderr)")
        for name in ["rocket", "astronaut"] {
            #expect(try NPY.read(dir.appendingPathComponent("\(name)/relevance.npy")).shape == [1, 2, 2])
        }
    }

    @Test func textSimilarity() throws {
        let dir = out("text")
        let r = try CLI.run(["explain", "--text", "the cat sat on the mat", "--model", bert, "--target", "similar-text:a dog slept",
                             "--method", "input-grad", "--out", dir.path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("most relevant: '"), "\(r.stdout)")
        let a = try NPY.read(dir.appendingPathComponent("relevance.npy"))
        #expect(a.shape.count == 1 && a.shape[0] > 2 && a.floats.allSatisfy { $0 >= 0 } && a.floats.contains { $0 > 0 })
        // Chefer's map holds the readout token's own relevance (>= 1); the summary's list leaves it out.
        let chefer = try CLI.run(["explain", "--text", "the cat sat on the mat", "--model", bert, "--target", "token:2,3", "--out", out("text2").path])
        #expect(chefer.status == 0 && chefer.stdout.contains("most relevant: '") && !chefer.stdout.contains("'[CLS]'"), "\(chefer.stdout)")
    }

    @Test func badTargetsFailOnOneLine() throws {
        let notes = CLI.temporaryDirectory("explain-notes").appendingPathComponent("notes.jpg")
        try Data("just text\n".utf8).write(to: notes)
        let image = ["photos/rocket.jpg", "--size", "32x32", "--out", out("bad").path]
        let cases: [([String], String)] = [
            (["--model", vit, "--target", "class:9"], "class index 9 is out of range"),
            (["--model", vit, "--target", "label:teapott"], "nearest labels: \"teapot\""),
            (["--model", vit, "--target", "similar:\(notes.path)"], "not an image"),
            (["--model", dino, "--target", "class:0"], "has no classifier"),
            (["--model", vit, "--target", "similar-text:hello"], "needs a text model"),
        ]
        for (args, message) in cases {
            let r = try CLI.run(["explain"] + image + args)
            #expect(r.status == 1, "\(args): \(r.stderr)")
            #expect(r.errorLines.count == 1 && r.stderr.contains(message), "\(args): \(r.stderr)")
        }
        let saved = try CLI.run(["explain", "--attentions", "a.npy", "--prefix-tokens", "1", "--grid", "2x2", "--patch-size", "16",
                                 "--out", out("bad").path])
        #expect(saved.status != 0 && (saved.errorLines.first ?? "").contains("explain needs gradients"), "\(saved.stderr)")
        let parse = try CLI.run(["explain"] + image + ["--model", vit, "--target", "colour:red"])
        #expect(parse.status != 0 && (parse.errorLines.first ?? "").contains("unknown kind 'colour'"), "\(parse.stderr)")
    }
}
