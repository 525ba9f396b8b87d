import Foundation
import ViTLens

extension ReportJob {
    /// One sentence: a forward pass keeping every layer, a head view per layer and the matrices.
    func textReport(_ session: AnalysisSession, text: String) throws -> TextReport {
        let input = try session.sentence(text, truncate: truncate)
        guard let encoding = input.encoding else { throw InputError(file: "--text", problem: "the sentence has no encoding") }
        var recorder = AttentionRecorder()
        let start = DispatchTime.now().uptimeNanoseconds
        try session.run(input, observer: &recorder)
        let seconds = Self.seconds(since: start)
        let attentions = recorder.attentions  // [layers, heads, T, T]
        guard attentions.shape.count == 4, attentions.shape[0] == input.layers else {
            throw SessionError.noResult(analysis: "report (text)", layer: nil)
        }
        var matrices: [[ReportPicture]] = []
        var headViews: [String] = []
        for l in 0 ..< input.layers {
            let layer = attentions.slice(l)
            var row = try (0 ..< layer.shape[0]).map { try style.matrixPicture(layer.slice($0)) }
            row.append(try style.matrixPicture(try HeadFusion.mean.fuse(layer)))
            matrices.append(row)
            if encoding.count <= headViewMaxTokens {
                headViews.append(HeadViewSVG(tokens: encoding.tokens, attention: layer, layer: l).svg())
            }
        }
        var report = TextReport(text: text, tokens: encoding.tokens, untruncatedCount: encoding.untruncatedCount, attentions: attentions,
                                headViews: encoding.count <= headViewMaxTokens ? headViews : nil, matrices: matrices, seconds: seconds)
        if let target = textTarget, !explainMethods.isEmpty {
            report.explanation = try explanations(session, input, target: target)
        } else if !explainMethods.isEmpty {
            report.explanationNote = "A text model has no class to explain; give a target such as similar-text:TEXT or token:I,J "
                + "(--explain-text-target) to explain a similarity."
        }
        return report
    }
}
