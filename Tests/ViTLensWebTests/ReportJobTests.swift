import Foundation
import Testing
import ViTLens
import ViTLensTestSupport
@testable import ViTLensWeb

/// `ReportJob` + `ReportHTML` on the fixture models: what the page holds equals what the jobs compute.
@Suite struct ReportJobTests {
    @Test func pageHasNoExternalReference() throws {
        let html = ReportHTML.render(try ReportFixture.report())
        let refs = try ReportFixture.captures(#"\b(?:src|href|xlink:href|action|poster|srcset)\s*=\s*["']([^"']*)["']"#, in: html)
        #expect(refs.count > 20)
        for ref in refs { #expect(ref.hasPrefix("data:") || ref.hasPrefix("#"), "external reference: \(ref.prefix(80))") }
        let urls = try ReportFixture.captures(#"url\(\s*([^)]*)\)"#, in: html)
        #expect(!urls.isEmpty)
        for u in urls { #expect(u.hasPrefix("data:") || u.hasPrefix("#"), "url(): \(u.prefix(80))") }
        for forbidden in ["http://", "https://", "//cdn", "<link", "@import", "@font-face", "<iframe", "fetch(", "XMLHttpRequest"] {
            #expect(!html.contains(forbidden), "the page contains \(forbidden)")
        }
        #expect(html.contains("Content-Security-Policy\" content=\"default-src 'none'"))
        #expect(html.hasPrefix("<!DOCTYPE html>") && html.contains(ReportHTML.generatorMarker + ViTLensVersion.current + "\""))
    }

    @Test func oneSectionPerInput() throws {
        let report = try ReportFixture.report()
        let html = ReportHTML.render(report)
        #expect(report.sections.count == 3 && report.failures.isEmpty)
        #expect(html.components(separatedBy: "<section class=\"input image\"").count - 1 == 2)
        #expect(html.components(separatedBy: "<section class=\"input text\"").count - 1 == 1)
        #expect(html.contains("id=\"img-1\"") && html.contains("id=\"img-2\"") && html.contains("id=\"text-1\""))
        // The fixture ViT has 2 layers x 2 heads: 2 x (2 + mean) grid pictures per image.
        let gridCells = html.components(separatedBy: "<div class=\"ov thumb\">").count - 1
        #expect(gridCells == 2 * 2 * 3)
        #expect(report.models.map(\.kind) == ["image", "text"])
    }

    @Test func predictionIsTheModelsTopOne() throws {
        let (session, _) = try ReportFixture.sessions()
        let report = try ReportFixture.report()
        let html = ReportHTML.render(report)
        for (i, path) in ReportFixture.photos.enumerated() {
            var none = NoObserver()
            guard case .vision(let output) = try session.run(try session.image(at: URL(fileURLWithPath: path)), observer: &none),
                  let logits = output.logits else { Issue.record("no logits"); return }
            let top = try #require(logits.values.indices.max { logits.values[$0] < logits.values[$1] })
            let embedded = try EmbeddedImage.decode(try ReportFixture.embeddedJSON(html, id: "img-\(i + 1)"))
            let prediction = try #require(embedded.prediction)
            #expect(prediction.count == 5 && prediction[0].index == top)
            #expect(prediction[0].label == session.vision?.model.labels[top])
            #expect(abs(prediction.map(\.probability).reduce(0, +) - 1) < 1e-6)
            #expect(html.contains("<td>\(prediction[0].label)</td>"))
        }
    }

    @Test func embeddedMapsEqualHeadsAndRolloutJobs() throws {
        let (session, _) = try ReportFixture.sessions()
        let html = ReportHTML.render(try ReportFixture.report())
        for (i, path) in ReportFixture.photos.enumerated() {
            let input = try session.image(at: URL(fileURLWithPath: path))
            let embedded = try EmbeddedImage.decode(try ReportFixture.embeddedJSON(html, id: "img-\(i + 1)"))
            #expect(embedded.name == path)
            let (layers, heads) = (input.layers, embedded.clsMaps.shape[1])
            #expect(embedded.clsMaps.shape == [2, 2, 14, 14])
            let plane = embedded.clsMaps.values.count / layers
            for layer in 0 ..< layers {
                var job = HeadsJob()
                job.layer = layer
                guard case .array(let maps)? = try job.run(session, input).content(of: "cls_attention.npy") else {
                    Issue.record("heads gave no cls_attention.npy"); return
                }
                let page = Tensor(shape: maps.shape, values: Array(embedded.clsMaps.values[(layer * plane) ..< ((layer + 1) * plane)]))
                // Two forward passes agree to float rounding (threaded BLAS blocks), not bit for bit.
                let c = compare(page, maps)
                #expect(c.within(.attention), "layer \(layer): \(c)")
                if layer == layers - 1 {
                    let masks = try DINOMasks.masks(page, threshold: 0.6)
                    #expect(embedded.masks.values == masks.values && embedded.masks.shape == masks.shape)
                    #expect(embedded.keptMass == masks.keptMass && embedded.keptMass.count == heads)
                    let jobMasks = try DINOMasks.masks(maps, threshold: 0.6)
                    #expect(zip(embedded.keptMass, jobMasks.keptMass).allSatisfy { abs($0 - $1) < 1e-5 })
                }
            }
            guard case .array(let rollout)? = try RolloutJob().run(session, input).content(of: "rollout.npy") else {
                Issue.record("rollout gave no rollout.npy"); return
            }
            let c = compare(Tensor(shape: embedded.rollout.shape, values: embedded.rollout.values), rollout)
            #expect(c.within(.attention), "rollout: \(c)")
            #expect(embedded.meanAttentionDistance.shape == [2, 2] && embedded.meanAttentionDistance.values.allSatisfy { $0 > 0 })
        }
    }

    @Test func picturesAreTheMapsInColormapColours() throws {
        let report = try ReportFixture.report()
        guard case .image(let image) = report.sections[0] else { Issue.record("first section is not an image"); return }
        #expect(image.inputSize == [224, 224])
        let picture = image.mapPictures[1][0]
        let decoded = try ImageIO.decode(picture.png, file: "heat.png")
        #expect(decoded.width == 224 && decoded.height == 224)
        // Patch (0, 0) of layer 1, head 0: its normalised value's colormap colour fills the patch's pixels.
        let map = image.maps[1].slice(0)
        let normalized = try MapNormalization.max.apply(map)
        let expected = Colormap.viridis.color(normalized.values.values[0])
        let pixel = decoded[7, 7]
        #expect([pixel.0, pixel.1, pixel.2] == [expected.red, expected.green, expected.blue])
        #expect(picture.high == map.values.max())
    }

    @Test func failingImageIsReportedWhileOthersAreIn() throws {
        let (session, _) = try ReportFixture.sessions()
        let dir = try temporaryFolder("report-fail")
        defer { try? FileManager.default.removeItem(at: dir) }
        let broken = dir.appendingPathComponent("broken.jpg")
        try Data("not a jpeg at all".utf8).write(to: broken)
        let events = EventLog()
        var job = ReportJob()
        job.onProgress = { done, total, name in events.append("\(done)/\(total) \(name)") }
        let inputs = [ReportFixture.photos[0], broken.path, ReportFixture.photos[1]]
        let report = try job.run(imageModel: session, images: inputs)
        #expect(report.sections.count == 3)
        #expect(report.failures.count == 1)
        let failure = try #require(report.failures.first)
        #expect(failure.input == broken.path && failure.reason.hasPrefix(broken.path) && !failure.reason.contains("\n"))
        if case .image = report.sections[0], case .failure = report.sections[1], case .image = report.sections[2] {} else {
            Issue.record("sections out of order")
        }
        #expect(events.lines == inputs.enumerated().map { "\($0.offset + 1)/3 \($0.element)" })
        let html = ReportHTML.render(report)
        #expect(html.contains("<section class=\"input failure\" id=\"failed-1\">"))
        #expect(html.contains("Failed: \(XMLText.escape(failure.reason))"))
        #expect(html.components(separatedBy: "<section class=\"input image\"").count - 1 == 2)
    }

    @Test func inputsWithoutAMatchingModelAreRefused() throws {
        let (image, text) = try ReportFixture.sessions()
        #expect(throws: ReportError.needsImageModel(given: ReportFixture.bert)) {
            try ReportJob().run(imageModel: text, images: ReportFixture.photos)
        }
        #expect(throws: ReportError.needsTextModel(given: ReportFixture.vit)) {
            try ReportJob().run(textModel: image, texts: ["hello"])
        }
        #expect(throws: ReportError.noInputs) { try ReportJob().run(imageModel: image) }
    }
}

/// Progress lines collected from a `@Sendable` callback.
final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [String] = []
    func append(_ line: String) { lock.withLock { storage.append(line) } }
    var lines: [String] { lock.withLock { storage } }
}
