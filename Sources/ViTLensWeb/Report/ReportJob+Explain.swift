import Foundation
import ViTLens

extension ReportJob {
    /// The explanation target of the images: ``imageTarget``, else `top1` when `session` has a classifier.
    func resolvedImageTarget(for session: AnalysisSession) -> TargetSpec? {
        guard !explainMethods.isEmpty else { return nil }
        return imageTarget ?? (session.vision?.model.classCount != nil ? .top1 : nil)
    }

    /// Every method of ``explainMethods`` on `input` for `target` through ``ExplainJob`` (one forward
    /// and one backward pass each); image maps drawn by `style` at the input's size.
    /// - Throws: the job's one-line errors (a target that does not fit the model or the input).
    func explanations(_ session: AnalysisSession, _ input: AnalysisInput, target: TargetSpec) throws -> ExplanationReport {
        var methods: [MethodExplanation] = []
        var classIndex: Int?
        for method in explainMethods {
            var job = ExplainJob()
            (job.method, job.target) = (method, target)
            let start = DispatchTime.now().uptimeNanoseconds
            let result: ExplainJob.Result
            do { result = try job.explain(session, input) } catch {
                throw ReportExplanationError(input: input.name, target: target.description, reason: "\(error)")
            }
            let seconds = Self.seconds(since: start)
            let map = result.explanation.map
            let shown = ExplainJob.shownMap(map, layout: input.layout)
            var picture: ReportPicture?
            if let canvas = input.canvas { picture = try style.heatPicture(shown, height: canvas.height, width: canvas.width) }
            classIndex = classIndex ?? result.classIndex
            methods.append(MethodExplanation(method: method, map: map, shown: shown, targetValue: result.value, picture: picture, seconds: seconds))
        }
        let label = classIndex.flatMap { session.vision?.model.labels[$0] }
        return ExplanationReport(target: target.description, classIndex: classIndex, label: label, methods: methods)
    }
}

/// An explanation that failed for one input: `INPUT: explanation of TARGET: REASON` (one line).
struct ReportExplanationError: Error, CustomStringConvertible {
    var input: String
    var target: String
    var reason: String

    var description: String {
        let cli = "--target \(target): "
        return "\(input): explanation of \(target): " + (reason.hasPrefix(cli) ? String(reason.dropFirst(cli.count)) : reason)
    }
}
