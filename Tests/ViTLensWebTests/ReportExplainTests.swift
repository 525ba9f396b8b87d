import Foundation
import Testing
import ViTLens
import ViTLensTestSupport
@testable import ViTLensWeb

/// The report's explanation part: every method's map is what `ExplainJob` computes for the same input
/// and target, the page has one figure and one switch button per method, and models without a
/// natural target get a note instead.
@Suite(.serialized) struct ReportExplainTests {
    struct Embedded: Decodable {
        struct Method: Decodable {
            var method: String
            var targetValue: Float
            var map: EmbeddedImage.Array
        }
        struct Explanation: Decodable {
            var target: String
            var classIndex: Int?
            var label: String?
            var methods: [Method]
        }
        var explanation: Explanation?

        static func decode(_ html: String, id: String) throws -> Embedded {
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            return try decoder.decode(Embedded.self, from: try ReportFixture.embeddedJSON(html, id: id))
        }
    }

    /// `ExplainJob`'s result for one method and target.
    func reference(_ session: AnalysisSession, _ input: AnalysisInput, _ method: ExplanationMethod, _ target: TargetSpec) throws -> ExplainJob.Result {
        var job = ExplainJob()
        (job.method, job.target) = (method, target)
        return try job.explain(session, input)
    }

    /// Two passes agree to float rounding (OpenBLAS threads are process-wide), so within 1e-6 of the map's scale.
    func expectClose(_ page: EmbeddedImage.Array, _ expected: Tensor, _ what: String) {
        let c = compare(Tensor(shape: page.shape, values: page.values), expected)
        let scale = max(1, expected.values.map(abs).max() ?? 0)
        #expect(c.shapeMismatch == nil && c.maxAbsDiff <= 1e-6 * scale, "\(what): \(c)")
    }

    @Test func aClassifiersImagesExplainTheTopClassByEveryMethod() throws {
        let (session, _) = try ReportFixture.sessions()
        let report = try ReportFixture.report()
        let html = ReportHTML.render(report)
        for (i, path) in ReportFixture.photos.enumerated() {
            let input = try session.image(at: URL(fileURLWithPath: path))
            let embedded = try #require(try Embedded.decode(html, id: "img-\(i + 1)").explanation)
            #expect(embedded.target == "top1")
            #expect(embedded.methods.map(\.method) == ["chefer", "grad-rollout", "attn-grad", "input-grad"])
            for (method, page) in zip(ExplanationMethod.allCases, embedded.methods) {
                let r = try reference(session, input, method, .top1)
                expectClose(page.map, r.explanation.map, "\(path) \(method)")
                #expect(abs(page.targetValue - r.value) <= 1e-5 * max(1, abs(r.value)))
                #expect(embedded.classIndex == r.classIndex && embedded.classIndex != nil)
                #expect(embedded.label == r.classIndex.flatMap { session.vision?.model.labels[$0] })
            }
            #expect(embedded.methods[2].map.shape == [2, 14, 14] && embedded.methods[0].map.shape == [14, 14])
            guard case .image(let section) = report.sections[i], let e = section.explanation else { Issue.record("no explanation"); continue }
            // attn-grad is drawn as the sum over its layers, like relevance.png.
            let layered = e.methods[2]
            #expect(layered.shown.shape == [14, 14])
            #expect(layered.shown.values[17] == layered.map.values[17] + layered.map.values[196 + 17])
            #expect(e.methods.allSatisfy { $0.picture != nil })
        }
        // One button and one figure per method and image, the first method shown first.
        #expect(html.components(separatedBy: "<figure class=\"ex-method").count - 1 == 8)
        #expect(html.components(separatedBy: "<figure class=\"ex-method active\" data-method=\"chefer\"").count - 1 == 2)
        #expect(html.components(separatedBy: "<button type=\"button\" data-method=\"grad-rollout\" aria-pressed=\"false\">").count - 1 == 2)
        #expect(html.components(separatedBy: "class=\"heat ex-map\"").count - 1 == 8)
        #expect(html.contains("<h3>Explanation of <code>top1</code> (class "))
    }

    @Test func sentencesAreExplainedForTheirTargetAndColourTheTokens() throws {
        let (_, text) = try ReportFixture.sessions()
        var job = ReportJob()
        job.textTarget = .similarText("The dog was exhausted")
        job.explainMethods = [.inputGradient, .chefer]
        let report = try job.run(textModel: text, texts: [ReportFixture.sentence])
        let html = ReportHTML.render(report)
        let embedded = try #require(try Embedded.decode(html, id: "text-1").explanation)
        let input = try text.sentence(ReportFixture.sentence)
        let tokens = try #require(input.encoding?.tokens)
        #expect(embedded.target == "similar-text:The dog was exhausted" && embedded.classIndex == nil)
        #expect(embedded.methods.map(\.method) == ["input-grad", "chefer"])
        for (method, page) in zip([ExplanationMethod.inputGradient, .chefer], embedded.methods) {
            let r = try reference(text, input, method, .similarText("The dog was exhausted"))
            #expect(page.map.shape == [tokens.count])
            expectClose(page.map, r.explanation.map, "\(method)")
            #expect(r.value < 1 && abs(page.targetValue - r.value) <= 1e-5)
        }
        // Each method colours every token once; the first method is shown first.
        #expect(html.components(separatedBy: "<span class=\"ex-tok\"").count - 1 == 2 * tokens.count)
        #expect(html.contains("<figure class=\"ex-method active\" data-method=\"input-grad\">"))
        #expect(html.contains("<div class=\"explain\" data-method=\"input-grad\">"))
    }

    @Test func withoutANaturalTargetThereIsANoteAndWithAnOptionAMap() throws {
        let dinov2 = try AnalysisSession(model: Fixtures.url("models/dinov2").path)
        let (_, text) = try ReportFixture.sessions()
        let photo = ReportFixture.photos[0]
        let plain = try ReportJob().run(imageModel: dinov2, images: [photo], textModel: text, texts: ["Hello there."])
        let html = ReportHTML.render(plain)
        #expect(plain.failures.isEmpty)
        #expect(html.components(separatedBy: "<p class=\"note no-explanation\">").count - 1 == 2)
        #expect(html.contains("no classifier") && html.contains("similar:IMAGE") && html.contains("similar-text:TEXT"))
        #expect(!html.contains("<figure class=\"ex-method"))
        let plainData = try Embedded.decode(html, id: "img-1")
        #expect(plainData.explanation == nil)

        var job = ReportJob()
        job.imageTarget = .similar(file: ReportFixture.photos[1])
        job.explainMethods = [.gradientRollout]
        let similar = try job.run(imageModel: dinov2, images: [photo])
        guard case .image(let section) = similar.sections.first, let e = section.explanation else { Issue.record("no explanation"); return }
        let r = try reference(dinov2, try dinov2.image(at: URL(fileURLWithPath: photo)), .gradientRollout, .similar(file: ReportFixture.photos[1]))
        #expect(compare(e.methods[0].map, r.explanation.map).maxAbsDiff <= 1e-6 * max(1, r.explanation.map.values.map(abs).max() ?? 0))
        #expect(e.target == "similar:" + ReportFixture.photos[1] && e.classIndex == nil)

        // No methods: no explanation part at all.
        var none = ReportJob()
        none.explainMethods = []
        let bare = ReportHTML.render(try none.run(imageModel: dinov2, images: [photo]))
        #expect(!bare.contains("Explanation") && !bare.contains("no-explanation"))
    }

    @Test func aTargetTheModelCannotTakeFailsTheInputInOneLine() throws {
        let (session, _) = try ReportFixture.sessions()
        var job = ReportJob()
        job.imageTarget = .classIndex(99)
        job.explainMethods = [.chefer]
        let report = try job.run(imageModel: session, images: [ReportFixture.photos[0]])
        let failure = try #require(report.failures.first)
        #expect(failure.reason == "\(ReportFixture.photos[0]): explanation of class:99: class index 99 is out of range: the model has 5 classes (0...4)",
                "\(failure.reason)")
    }
}
