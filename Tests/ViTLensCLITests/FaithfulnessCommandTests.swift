import Foundation
import Testing
import ViTLens
import ViTLensTestSupport

/// `vitlens faithfulness`: the files it writes (the report equal to ``FaithfulnessJob`` run
/// in-process, curves starting at the unperturbed target) and one-line errors for bad settings.
@Suite(.serialized) struct FaithfulnessCommandTests {
    let vit = Fixtures.url("models/vit-p16-cls").path
    let bert = Fixtures.url("models/bert-tiny").path
    let photo = "photos/grace_hopper.jpg"

    @Test func writesTheJobsReport() throws {
        let dir = CLI.temporaryDirectory("faithfulness")
        let r = try CLI.run(["faithfulness", photo, "--model", vit, "--size", "32x48", "--steps", "4", "--random-orders", "2",
                             "--out", dir.path])
        #expect(r.status == 0, "\(r.stderr)")
        let files = ["faithfulness.json", "curves.csv", "summary.csv", "deletion.svg", "insertion.svg", "deletion.png", "insertion.png"]
        for f in files { #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent(f).path), "\(f)") }
        let data = try Data(contentsOf: dir.appendingPathComponent("faithfulness.json"))
        let written = try JSONDecoder().decode(FaithfulnessReport.self, from: data)
        let session = try AnalysisSession(model: vit)
        let input = try session.image(at: Fixtures.repositoryRoot.appendingPathComponent(photo), size: (32, 48))
        var job = FaithfulnessJob()
        (job.steps, job.randomOrders) = (4, 2)
        let expected = try job.evaluate(session, input)
        #expect(written.methods.map(\.name) == ["chefer", "grad-rollout", "attn-grad", "input-grad", "attention", "rollout"])
        #expect(written.methods.map(\.name) == expected.report.methods.map(\.name))
        #expect(written.steps == 4 && written.patches == 6 && written.random?.orders == 2 && written.baseline == "mean")
        // Tolerance: the AUCs are means of logits; the CLI process and this one split BLAS work differently (~1e-6).
        func aucs(_ r: FaithfulnessReport) -> Tensor {
            let v = r.methods.flatMap { [Float($0.curves.deletionAUC), Float($0.curves.insertionAUC)] }
            return Tensor(shape: [v.count], values: v)
        }
        #expect(compare(aucs(written), aucs(expected.report)).within(.hidden))
        // The deletion curve starts at the target (the top-1 logit) of the unperturbed image.
        let logits = try #require(try session.vision?.model.forward(input.source.pixels).logits?.values)
        let top = try #require(logits.max())
        let classIndex = try #require(expected.classIndex)
        #expect(written.target == "class \(classIndex) logit" && logits[classIndex] == top)
        for m in written.methods { #expect(abs((m.curves.deletion.values.first ?? .nan) - Double(top)) <= 1e-4, "\(m.name)") }
        let json = String(decoding: data, as: UTF8.self)
        #expect(json.contains("\"target_spec\" : \"top1\"") && json.contains("\"class_index\" : "))
        let summary = try String(contentsOf: dir.appendingPathComponent("summary.csv"), encoding: .utf8)
        #expect(summary.split(separator: "\n").count == 8 && summary.contains("\nrandom,"))
        // The sanity check (on by default) fills the spearman column of every method.
        #expect(written.sanity.map(\.method) == written.methods.map(\.name) && written.sanity == expected.report.sanity)
        for row in summary.split(separator: "\n").dropFirst().dropLast() { #expect(Double(row.split(separator: ",").last ?? "") != nil, "\(row)") }
        #expect(r.stdout.contains("chefer: deletion AUC "), "\(r.stdout)")
    }

    @Test func badSettingsFailOnOneLine() throws {
        let out = CLI.temporaryDirectory("faithfulness-bad").path
        let image = [photo, "--model", vit, "--size", "32x48", "--out", out]
        let cases: [([String], String)] = [
            (image + ["--steps", "0"], "--steps must be at least 1"),
            (image + ["--steps", "7"], "steps must be between 1 and the number of patches (6), got 7"),
            (image + ["--methods", "chefer,heatmap"], "unknown method 'heatmap'"),
            (image + ["--baseline", "blur:0"], "unknown baseline 'blur:0'"),
            (image + ["--sanity", "top-x"], "unknown sanity setting 'top-x'"),
            (image + ["--sanity", "top-3", "--steps", "4"], "randomised layers must be between 1 and the model's 2 layers, got 3"),
            (["--text", "a cat", "--model", bert, "--out", out], "needs an image model"),
            ([photo, "--model", bert, "--out", out], "an image model is needed"),
        ]
        for (args, message) in cases {
            let r = try CLI.run(["faithfulness"] + args)
            #expect(r.status != 0, "\(args)")
            // Settings the parser rejects add ArgumentParser's usage hint after the one error line.
            #expect((r.errorLines.first ?? "").contains(message), "\(args): \(r.stderr)")
            #expect(r.errorLines.count == 1 || r.errorLines.dropFirst().allSatisfy { $0.contains("sage") || $0.contains("--help") }, "\(r.stderr)")
        }
    }
}

extension AnalysisInput.Source {
    /// The pixels of an image input (empty otherwise).
    var pixels: Tensor {
        if case .image(let p) = self { return p.pixels }
        return Tensor(shape: [0], values: [])
    }
}
