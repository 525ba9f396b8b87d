import Foundation
import Testing
import ViTLens
import ViTLensTestSupport
@testable import ViTLensServer

/// `GET /api/inputs/ID/explain` answers what `ExplainJob` (and so `vitlens explain`) computes for the
/// same input, bit for bit; it is computed once per (method, target); bad parameters are 400s naming them.
@Suite(.serialized) struct ExplainTests {
    func explain(_ explorer: Explorer, _ e: CachedInput, _ pairs: [String: String]) async throws -> ArrayAnswer {
        try await explorer.explain(e, try ServerFixtures.parameters(pairs, Explorer.explainParameters))
    }

    func reference(_ e: CachedInput, _ method: ExplanationMethod, _ target: TargetSpec) throws -> ExplainJob.Result {
        var job = ExplainJob()
        (job.method, job.target) = (method, target)
        return try job.explain(e.model.session, e.input)
    }

    /// The JSON fields of an answer, decoded.
    func fields(_ a: ArrayAnswer) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(a.json.utf8)) as? [String: Any])
    }

    @Test func aClassifiersTopClassEqualsExplainJobAndIsCached() async throws {
        let explorer = try ServerFixtures.explorer(["vit-p16-cls"])
        let e = try await explorer.uploadImage(try ServerFixtures.photo(), model: nil, size: nil, name: "grace.jpg")
        let before = explorer.store.bytes
        let answer = try await explain(explorer, e, [:])  // chefer, top1
        let expected = try reference(e, .chefer, .top1)
        let grid = try #require(e.layout.grid)
        #expect(answer.shape == [grid.rows, grid.columns])
        #expect(answer.values == expected.explanation.map.values)
        let f = try fields(answer)
        #expect(f["class_index"] as? Int == expected.classIndex)
        #expect(f["label"] as? String == expected.classIndex.flatMap { e.model.session.vision?.model.labels[$0] })
        #expect((f["target_value"] as? Double).map(Float.init) == expected.value)
        #expect(f["method"] as? String == "chefer" && f["target"] as? String == "top1" && f["cached"] as? Bool == false)
        #expect(f["model_type"] as? String == "vit" && f["vitlens_version"] != nil)
        // The second request is served from the cache, which counts in the store's budget.
        let again = try await explain(explorer, e, [:])
        let againFields = try fields(again)
        #expect(again.values == answer.values && againFields["cached"] as? Bool == true)
        #expect(e.explanations.count == 1)
        #expect(e.explanations.bytes >= answer.values.count * 4)
        #expect(explorer.store.bytes == before + e.explanations.bytes)
        // Every method and a label target: the library's map, and a different picture per target.
        for method in ExplanationMethod.allCases {
            let a = try await explain(explorer, e, ["method": method.rawValue, "target": "label:teapot"])
            let r = try reference(e, method, .label("teapot"))
            #expect(a.shape == r.explanation.map.shape && a.values == r.explanation.map.values, "\(method)")
            #expect((try fields(a))["class_index"] as? Int == 4)
        }
        let other = try await explain(explorer, e, ["target": "class:2"])
        #expect(other.values != (try await explain(explorer, e, ["target": "class:4"])).values)
        #expect(e.explanations.count == 7)
    }

    @Test func similarInputIsTheOtherUploadsEmbedding() async throws {
        let explorer = try ServerFixtures.explorer()
        let grace = try await explorer.uploadImage(try ServerFixtures.photo(), model: "0", size: nil, name: "grace.jpg")
        let astronaut = try await explorer.uploadImage(try ServerFixtures.photo("astronaut.png"), model: "0", size: nil, name: "astronaut.png")
        let answer = try await explain(explorer, grace, ["method": "grad-rollout", "target": "similar-input:\(astronaut.id)"])
        let file = Fixtures.repositoryRoot.appendingPathComponent("photos/astronaut.png").path
        let expected = try reference(grace, .gradientRollout, .similar(file: file))
        #expect(answer.values == expected.explanation.map.values)
        // The cosine's last bits may differ between two passes of the other image (process-wide OpenBLAS threads).
        let value = try #require(try fields(answer)["target_value"] as? Double)
        #expect(abs(value - Double(expected.value)) <= 1e-6, "\(value) vs \(expected.value)")
        #expect(expected.value < 1)
        // Nothing is left in the temporary folder.
        let left = try FileManager.default.contentsOfDirectory(atPath: FileManager.default.temporaryDirectory.path)
        #expect(!left.contains { $0.hasPrefix(ExplainTarget.folderPrefix) })

        // Text against text: the mean-pooled cosine of similar-text:.
        let a = try await explorer.uploadText(ServerFixtures.sentence, truncate: false, model: "1")
        let b = try await explorer.uploadText("The dog was exhausted", truncate: false, model: "1")
        let text = try await explain(explorer, a, ["method": "input-grad", "target": "similar-input:\(b.id)"])
        let reference = try reference(a, .inputGradient, .similarText("The dog was exhausted"))
        #expect(text.shape == [a.layout.tokenCount] && text.values == reference.explanation.map.values)
        let tokens = try await explain(explorer, a, ["target": "token:1,3"])
        #expect(tokens.values == (try self.reference(a, .chefer, .tokens(1, 3))).explanation.map.values)

        // Image against text, another model, itself: one-line 400s naming the target.
        for (input, target, words) in [(grace, "similar-input:\(a.id)", "same model"), (a, "similar-input:\(grace.id)", "same model"),
                                       (grace, "similar-input:\(grace.id)", "itself"), (grace, "similar:/etc/hosts", "server-side"),
                                       (a, "similar-text:hello", "server-side"), (grace, "top1", "no classifier"),
                                       (a, "label:cat", "no classifier"), (grace, "class:0", "no classifier"),
                                       (grace, "token:0,999", "out of range"), (grace, "nonsense", "use one of")] {
            await #expect { try await explain(explorer, input, ["target": target]) } throws: { error in
                let m = "\(error)"
                return error is ExplorerError && m.hasPrefix("target=") && m.contains(words) && !m.contains("\n")
            }
        }
        await #expect(throws: ExplorerError.self) { try await explain(explorer, grace, ["target": "similar-input:0123456789abcdef"]) }
    }

    @Test func badParametersAreOneLine400sNamingThem() async throws {
        let explorer = try ServerFixtures.explorer(["vit-p16-cls"])
        let e = try await explorer.uploadImage(try ServerFixtures.photo(), model: nil, size: nil, name: "g")
        await #expect { try await explain(explorer, e, ["method": "gradcam"]) } throws: { "\($0)".hasPrefix("method must be one of chefer") }
        await #expect { try await explain(explorer, e, ["target": "class:99"]) } throws: {
            "\($0)" == "target=class:99: class index 99 is out of range: the model has 5 classes (0...4)"
        }
        await #expect { try await explain(explorer, e, ["target": "label:teapott"]) } throws: { "\($0)".contains("nearest labels: \"teapot\"") }
        #expect(throws: ExplorerError.self) { try ServerFixtures.parameters(["layer": "1"], Explorer.explainParameters) }
        #expect(e.explanations.count == 0)
    }
}
