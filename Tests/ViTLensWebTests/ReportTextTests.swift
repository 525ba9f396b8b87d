import Foundation
import Testing
import ViTLens
import ViTLensTestSupport
@testable import ViTLensWeb

/// The sentence part of a report: tokens, head view lines and matrices equal the recorded attention.
@Suite struct ReportTextTests {
    func textSection() throws -> (TextReport, TextEncoding, Tensor) {
        let (_, session) = try ReportFixture.sessions()
        let report = try ReportJob().run(textModel: session, texts: [ReportFixture.sentence])
        guard case .text(let text)? = report.sections.first else { throw ReportTestError("no text section") }
        let input = try session.sentence(ReportFixture.sentence)
        var recorder = AttentionRecorder()
        try session.run(input, observer: &recorder)
        return (text, try #require(input.encoding), recorder.attentions)
    }

    @Test func tokensAndAttentionsEqualTheSession() throws {
        let (text, encoding, attentions) = try textSection()
        #expect(text.tokens == encoding.tokens && text.tokens.first == "[CLS]" && text.tokens.last == "[SEP]")
        #expect(compare(text.attentions, attentions).within(.attention))
        #expect(text.matrices.count == 2 && text.matrices.allSatisfy { $0.count == 3 })
        let matrix = try ImageIO.decode(text.matrices[0][0].png, file: "matrix.png")
        #expect(matrix.width == encoding.count && matrix.height == encoding.count)
    }

    @Test func headViewLinesCarryTheWeights() throws {
        let (text, encoding, attentions) = try textSection()
        let views = try #require(text.headViews)
        #expect(views.count == 2)
        let t = encoding.count
        let svg = views[1]
        let layer = attentions.slice(1)
        let lines = try ReportFixture.captures(#"(<line [^>]*/>)"#, in: svg)
        #expect(lines.count == layer.values.filter { $0 >= 0.01 }.count)
        for line in lines.prefix(50) {
            let q = try #require(Int(try ReportFixture.captures(#"data-query="(\d+)""#, in: line).first ?? ""))
            let k = try #require(Int(try ReportFixture.captures(#"data-key="(\d+)""#, in: line).first ?? ""))
            let opacity = try #require(Float(try ReportFixture.captures(#"stroke-opacity="([0-9.]+)""#, in: line).first ?? ""))
            let at = try #require(svg.range(of: line))
            let before = svg[..<at.lowerBound].components(separatedBy: "data-head=\"").last ?? ""
            let head = try #require(Int(String(before.prefix { $0.isNumber })))
            let w = layer.values[(head * t + q) * t + k]
            #expect(abs(opacity - w) <= 0.0005, "head \(head) \(q)->\(k): \(opacity) vs \(w)")
        }
        #expect(svg.components(separatedBy: "class=\"hv-token hv-q\"").count - 1 == t)
    }

    @Test func longSentencesKeepTheMatricesOnly() throws {
        let (_, session) = try ReportFixture.sessions()
        var job = ReportJob()
        job.headViewMaxTokens = 5
        let report = try job.run(textModel: session, texts: [ReportFixture.sentence])
        guard case .text(let text)? = report.sections.first else { Issue.record("no text section"); return }
        #expect(text.headViews == nil && text.matrices.count == 2)
        let html = ReportHTML.render(report)
        #expect(html.contains("No head view: the sentence has \(text.tokens.count) tokens"))
        #expect(!html.contains("\"attentions\""))
    }

    @Test func tokensAreEscaped() {
        let svg = HeadViewSVG(tokens: ["<b>", "a&b"], attention: Tensor(shape: [1, 2, 2], values: [1, 0, 0.5, 0.5]), layer: 0).svg()
        #expect(svg.contains("&lt;b&gt;") && svg.contains("a&amp;b") && !svg.contains("<b>"))
        #expect(ReportPageWriter.inlineJSON(["</script><b>"]).contains("\\u003c/script>\\u003cb>"))
    }
}

struct ReportTestError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
