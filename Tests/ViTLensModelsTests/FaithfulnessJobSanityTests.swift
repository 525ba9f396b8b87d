import Foundation
import Testing
import ViTLens
import ViTLensTestSupport

/// `FaithfulnessJob`'s model-randomisation sanity check and the zero-gradient warning of
/// `ExplainJob`/`FaithfulnessJob` on fixture models.
@Suite struct FaithfulnessJobSanityTests {
    let photo = Fixtures.repositoryRoot.appendingPathComponent("photos/grace_hopper.jpg")
    let other = Fixtures.repositoryRoot.appendingPathComponent("photos/astronaut.png")

    func job(_ target: String, seed: UInt64 = 0, sanity: WeightRandomization? = .all) throws -> FaithfulnessJob {
        var job = FaithfulnessJob()
        (job.target, job.steps, job.randomOrders, job.seed, job.sanity) = (try TargetSpec(parsing: target), 4, 0, seed, sanity)
        return job
    }

    func jsonText(_ product: AnalysisProduct, _ name: String) throws -> String {
        guard let metadata = product.json(name) else { throw InputError(file: name, problem: "missing") }
        return String(decoding: try AnalysisProduct.encodeJSON(metadata), as: UTF8.self)
    }

    /// Each method's map correlates perfectly with itself on the real model (the same maps twice);
    /// on the shuffled copy the correlation is a real number below 1, one per method, recorded in
    /// the report, summary.csv, faithfulness.json and the summary lines; the seed reproduces it.
    @Test func shuffledCopyDecorrelatesEveryMethod() throws {
        let session = try AnalysisSession(model: Fixtures.url("models/vit-p16-cls").path)
        let input = try session.image(at: photo, size: (64, 64))
        let first = try job("class:3", seed: 5).evaluate(session, input)
        let again = try job("class:3", seed: 5).evaluate(session, input)
        #expect(first.maps.count == 6)
        for (a, b) in zip(first.maps, again.maps) {
            #expect(abs(try SpearmanCorrelation.value(a.map.values, b.map.values) - 1) < 1e-12, "\(a.name)")
        }
        let sanity = first.report.sanity
        #expect(sanity.map(\.method) == ["chefer", "grad-rollout", "attn-grad", "input-grad", "attention", "rollout"])
        for r in sanity {
            #expect(r.spearman.isFinite && r.spearman < 0.99 && r.spearman > -1, "\(r.method): \(r.spearman)")
            #expect(r.randomization == "all" && r.seed == 5)
        }
        print("sanity vit-p16-cls 64x64 class 3 seed 5: " + sanity.map { "\($0.method) \($0.spearman)" }.joined(separator: ", "))
        #expect(again.report.sanity == sanity, "the seed reproduces the shuffle")
        let reseeded = try job("class:3", seed: 6).evaluate(session, input).report.sanity
        #expect(reseeded.map(\.spearman) != sanity.map(\.spearman), "another seed, another copy")
        let top = try job("class:3", seed: 5, sanity: .topLayers(1)).evaluate(session, input).report.sanity
        #expect(top.count == 6 && top.allSatisfy { $0.randomization == "top-1" })
        #expect(try job("class:3", sanity: nil).evaluate(session, input).report.sanity.isEmpty)

        let product = try job("class:3", seed: 5).run(session, input)
        guard case .bytes(let csv)? = product.content(of: "summary.csv") else { Issue.record("no summary.csv"); return }
        let rows = String(decoding: csv, as: UTF8.self).split(separator: "\n")
        #expect(rows[1] == "chefer,\(first.report.methods[0].curves.deletionAUC),\(first.report.methods[0].curves.insertionAUC),\(sanity[0].spearman)")
        let json = (try jsonText(product, "faithfulness.json"))
        #expect(json.contains("\"sanity\" : [") && json.contains("\"spearman\" : ") && json.contains("\"gradient_zero\" : false"))
        #expect(product.summary.contains { $0.hasPrefix("chefer: ") && $0.contains("sanity Spearman all ") })
        #expect(product.warnings.isEmpty)
    }

    @Test func topLayersOutOfRangeIsOneLine() throws {
        let session = try AnalysisSession(model: Fixtures.url("models/vit-p16-cls").path)
        let input = try session.image(at: photo, size: (32, 48))
        #expect(throws: FaithfulnessError.randomizedLayers(9, layers: 2)) {
            _ = try job("class:3", sanity: .topLayers(9)).evaluate(session, input)
        }
        #expect(try FaithfulnessJob.sanity(parsing: "top-2") == .topLayers(2))
        #expect(try FaithfulnessJob.sanity(parsing: "none") == nil)
        #expect(throws: FaithfulnessJobError.sanity("top-0")) { _ = try FaithfulnessJob.sanity(parsing: "top-0") }
    }

    /// `similar:` with the image itself: the cosine is at its maximum, its gradient zero; the job
    /// says so (warning, `gradient_zero: true`) instead of presenting the map as an answer.
    @Test func selfSimilarityWarnsOfAZeroGradient() throws {
        let session = try AnalysisSession(model: Fixtures.url("models/dino-p8").path)
        let input = try session.image(at: photo, size: (64, 64))
        var explain = ExplainJob()
        explain.target = try TargetSpec(parsing: "similar:\(photo.path)")
        let same = try explain.explain(session, input)
        #expect(same.gradientIsZero && abs(same.value - 1) < 1e-5)
        let product = try explain.run(session, input)
        #expect(product.warnings.count == 1 && product.warnings[0].contains("gradient of similar:") && product.warnings[0].contains("is zero"))
        let json = (try jsonText(product, "explain.json"))
        #expect(json.contains("\"gradient_zero\" : true"))

        explain.target = try TargetSpec(parsing: "similar:\(other.path)")
        let different = try explain.explain(session, input)
        #expect(!different.gradientIsZero && different.value < 0.999)
        #expect(try explain.run(session, input).warnings.isEmpty)

        var faith = try job("similar:\(photo.path)", sanity: nil)
        faith.methods = [.chefer, .inputGradient]
        let result = try faith.evaluate(session, input)
        #expect(result.gradientIsZero && result.warnings.count == 1)
        let written = try faith.run(session, input)
        let faithJSON = (try jsonText(written, "faithfulness.json"))
        #expect(faithJSON.contains("\"gradient_zero\" : true") && written.warnings.count == 1)
    }
}
