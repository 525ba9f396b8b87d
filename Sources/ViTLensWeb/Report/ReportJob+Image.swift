import Foundation
import ViTLens

extension ReportJob {
    /// One image: a single forward pass feeding rollout, distance and one ``HeadMaps`` per layer.
    func imageReport(_ session: AnalysisSession, path: String) throws -> ImageReport {
        let input = try session.image(at: URL(fileURLWithPath: path), size: size)
        guard let canvas = input.canvas, let grid = input.layout.grid else {
            throw InputError(file: path, problem: "an image input has no patch grid")
        }
        let query = try QuerySpec.automatic.resolve(in: input.layout, input: input.name)
        var rolloutOptions = Rollout.Options()
        rolloutOptions.readout = .query(query)
        // SigLIP: CLS names the pooling head's probe, which exists in the last layer only. The
        // per-layer maps read token 0 (no-CLS models' query), and since every row of the probe's
        // layer is the probe's attention, the last layer's maps are the probe's; rollout reads the probe.
        let mapQuery: TokenQuery = query == .cls && input.layout.clsIndex == nil ? .token(0) : query
        let perLayer = ObserverList((0 ..< input.layers).map { HeadMaps(layer: $0, query: mapQuery) })
        var observers = ObserverPair(ObserverPair(try Rollout(rolloutOptions), MeanAttentionDistance()), perLayer)
        let start = DispatchTime.now().uptimeNanoseconds
        let output = try session.run(input, observer: &observers)
        let seconds = Self.seconds(since: start)
        let maps = observers.second.observers.compactMap { ($0 as? HeadMaps)?.result?.maps }
        guard let rollout = observers.first.first.result, let distance = observers.first.second.result,
              maps.count == input.layers, let last = maps.last
        else { throw SessionError.noResult(analysis: "report", layer: nil) }

        let (height, width) = (canvas.height, canvas.width)
        var mapPictures: [[ReportPicture]] = []
        for stack in maps {
            var row = try (0 ..< stack.shape[0]).map { try style.heatPicture(stack.slice($0), height: height, width: width) }
            row.append(try style.heatPicture(try HeadFusion.mean.fuse(stack), height: height, width: width))
            mapPictures.append(row)
        }
        let masks = try DINOMasks.masks(last, threshold: threshold)
        let plane = grid.rows * grid.columns
        let maskPictures = try (0 ..< last.shape[0]).map {
            try MaskPicture.png(masks.values[($0 * plane) ..< (($0 + 1) * plane)], rows: grid.rows, columns: grid.columns, height: height, width: width)
        }
        var prediction: [ClassScore]?
        if case .vision(let v) = output, let logits = v.logits {
            prediction = ClassScore.top(logits, labels: session.vision?.model.labels ?? [:])
        }
        let plot = try ScatterPlot.meanAttentionDistance(distance.mean, title: "Mean attention distance")
        var report = ImageReport(
            name: path, inputSize: [height, width], layout: input.layout, query: mapQuery,
            canvas: try ImageIO.encodePNG(canvas), prediction: prediction, maps: maps, mapPictures: mapPictures,
            masks: masks, maskPictures: maskPictures, rollout: rollout.map,
            rolloutPicture: try style.heatPicture(rollout.map, height: height, width: width),
            distances: distance.mean, distancePlot: plot.svg(width: 560, height: 360), seconds: seconds)
        if let target = resolvedImageTarget(for: session) {
            report.explanation = try explanations(session, input, target: target)
        } else if !explainMethods.isEmpty {
            report.explanationNote = "The model has no classifier, so there is no predicted class to explain; "
                + "give a target such as similar:IMAGE (--explain-target) to explain the similarity to another image."
        }
        return report
    }
}
