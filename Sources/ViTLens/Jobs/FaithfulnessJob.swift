import Foundation

/// Deletion and insertion faithfulness of several explanation maps of one target on one image
/// (docs/ANALYSES.md, "Explanations with gradients"); what `vitlens faithfulness` writes.
///
/// The target is resolved once on the unperturbed image (`top1` becomes that image's top class for
/// every map and every curve point). The gradient maps come from ``ExplainJob`` (one forward and one
/// backward each), `attention` (last layer, CLS row, mean of heads) and `rollout` (default
/// ``Rollout``) from one plain forward; each curve point is one more forward
/// (``VisionTransformer/faithfulness(pixels:target:methods:steps:baseline:randomOrders:seed:)``).
/// The sanity check (``sanity``) computes every map once more on a weight-shuffled copy of the
/// model and records the Spearman correlation of the two maps per method.
public struct FaithfulnessJob: Sendable {
    /// A map the job can evaluate.
    public enum Method: String, Sendable, CaseIterable, Equatable {
        case chefer, gradientRollout = "grad-rollout", attentionGradient = "attn-grad", inputGradient = "input-grad"
        /// Last-layer attention of the CLS row, mean of heads.
        case attention
        /// Attention rollout with the default options.
        case rollout

        /// The gradient method behind this map, if it is one.
        var explanation: ExplanationMethod? { ExplanationMethod(rawValue: rawValue) }
    }

    /// The maps evaluated, in this order (default all six).
    public var methods = Method.allCases
    /// The target as the user named it (default the predicted class).
    public var target = TargetSpec.top1
    /// Perturbation steps per curve.
    public var steps = 16
    /// What removed (deletion) or hidden (insertion) patches show.
    public var baseline = PerturbationBaseline.channelMean
    /// Seeded random patch orders averaged as the baseline curve (0: none).
    public var randomOrders = 8
    /// Seed of the random orders and of the sanity check's weight shuffle.
    public var seed: UInt64 = 0
    /// The model-randomisation sanity check (Adebayo et al. 2018): which weights of a copy of the
    /// model are shuffled (``ModelRandomization``, seeded with ``seed``) before every map is computed
    /// again and compared with the real model's map by ``SpearmanCorrelation``; `nil` skips it.
    /// Default ``WeightRandomization/all``: every weight at once.
    public var sanity: WeightRandomization? = .all
    /// Where the shuffled copy is written while the check runs (a fresh subfolder, removed
    /// afterwards); default the system's temporary folder.
    public var scratchFolder: URL?
    /// Gradient checkpointing for the gradient maps (``ExplainJob/recompute``).
    public var recompute = false

    public init() {}

    /// The report with the maps it was computed from.
    public struct Result: Sendable {
        public var report: FaithfulnessReport
        /// Each method's map `[gh, gw]` (attn-grad: summed over layers), in ``methods`` order.
        public var maps: [(name: String, map: Tensor)]
        /// The class evaluated, for class targets.
        public var classIndex: Int?
        /// Whether the target's gradient is numerically zero on the input (the gradient maps are
        /// then no explanation; ``GradientResult/gradientIsZero``).
        public var gradientIsZero = false
        /// One-line warnings (a zero gradient, a sanity correlation that could not be computed).
        public var warnings: [String] = []
    }

    /// Parses `all` or a comma-separated list of method names.
    /// - Throws: ``FaithfulnessJobError/unknownMethod(_:)`` naming the bad entry.
    public static func methods(parsing list: String) throws -> [Method] {
        if list == "all" { return Method.allCases }
        let names = list.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        var out: [Method] = []
        for name in names {
            guard let m = Method(rawValue: name) else { throw FaithfulnessJobError.unknownMethod(name) }
            if !out.contains(m) { out.append(m) }
        }
        return out
    }

    /// Parses `mean` or `blur:R` (R >= 1).
    /// - Throws: ``FaithfulnessJobError/baseline(_:)``.
    public static func baseline(parsing text: String) throws -> PerturbationBaseline {
        if text == "mean" { return .channelMean }
        if text.hasPrefix("blur:"), let r = Int(text.dropFirst(5)), r >= 1 { return .boxBlur(radius: r) }
        throw FaithfulnessJobError.baseline(text)
    }

    /// Parses the sanity check's setting: `all`, `top-K` (K >= 1: the head and the last K layers) or
    /// `none` (`nil`).
    /// - Throws: ``FaithfulnessJobError/sanity(_:)``.
    public static func sanity(parsing text: String) throws -> WeightRandomization? {
        if text == "none" { return nil }
        if text == "all" { return .all }
        if text.hasPrefix("top-"), let k = Int(text.dropFirst(4)), k >= 1 { return .topLayers(k) }
        throw FaithfulnessJobError.sanity(text)
    }

    /// Computes the maps, their curves and the sanity correlations.
    /// - Throws: ``SessionError/needsImageModel(model:)`` for text input, ``FaithfulnessError``,
    ///   ``TargetSpecError``, `GradientTargetError`, a forward's error, or (sanity check) an error
    ///   writing or loading the shuffled copy (one line each).
    public func evaluate(_ session: AnalysisSession, _ input: AnalysisInput) throws -> Result {
        guard let model = session.vision?.model, case .image(let image) = input.source else {
            throw SessionError.needsImageModel(model: session.provenance(for: input).model ?? input.name)
        }
        let patches = input.layout.grid.map { $0.rows * $0.columns } ?? 0
        if steps < 1 || steps > patches { throw FaithfulnessError.steps(steps, patches: patches) }
        if randomOrders < 0 { throw FaithfulnessError.randomOrders(randomOrders) }
        let attention = try attentionPass(session, input)
        let output = try attention?.output ?? .vision(model.forward(image.pixels))
        var (target, classIndex) = try self.target.resolve(in: session, for: input)
        var explainTarget = self.target
        if target == .topClassLogit {
            guard case .vision(let o) = output, let logits = o.logits else { throw GradientTargetError.noClassifier(modelType: model.modelType) }
            let top = VisionTransformer.topClass(logits.values)
            (target, classIndex, explainTarget) = (.classLogit(top), top, .classIndex(top))
        }
        let (maps, zero) = try self.maps(session, input, target: explainTarget, attention: attention?.observers)
        var warnings = zero ? [ExplainJob.zeroGradientWarning(self.target)] : []
        var report = try model.faithfulness(pixels: image.pixels, target: target, methods: maps, steps: steps, baseline: baseline,
                                            randomOrders: randomOrders, seed: seed)
        if let sanity {
            let (records, notes) = try sanityCorrelations(maps, session, input, target: explainTarget, randomization: sanity)
            report.sanity = records
            warnings += notes
        }
        return Result(report: report, maps: maps, classIndex: classIndex, gradientIsZero: zero, warnings: warnings)
    }

    /// One plain forward with the last layer's head maps and rollout, when a method needs them.
    private func attentionPass(_ session: AnalysisSession, _ input: AnalysisInput) throws
        -> (observers: ObserverPair<HeadMaps, Rollout>, output: ForwardOutput)? {
        guard methods.contains(.attention) || methods.contains(.rollout) else { return nil }
        var observers = ObserverPair(HeadMaps(layer: -1, query: .cls), try Rollout())
        let output = try session.run(input, observer: &observers)
        return (observers, output)
    }

    /// Every method's map through `session` (the model or its shuffled copy), and whether a gradient
    /// map's target had a zero gradient.
    private func maps(_ session: AnalysisSession, _ input: AnalysisInput, target: TargetSpec,
                      attention: ObserverPair<HeadMaps, Rollout>?) throws -> (maps: [(name: String, map: Tensor)], zero: Bool) {
        var maps: [(name: String, map: Tensor)] = []
        var zero = false
        for method in methods {
            switch method {
            case .attention:
                guard let heads = attention?.first.result else { throw SessionError.noResult(analysis: "attention", layer: -1) }
                maps.append((method.rawValue, try heads.fused(.mean)))
            case .rollout:
                guard let rollout = attention?.second.result else { throw SessionError.noResult(analysis: "rollout", layer: nil) }
                maps.append((method.rawValue, rollout.map))
            default:
                var job = ExplainJob()
                (job.method, job.target, job.recompute) = (method.explanation ?? .chefer, target, recompute)
                let result = try job.explain(session, input)
                let map = result.explanation.map
                zero = zero || result.gradientIsZero
                maps.append((method.rawValue, map.shape.count == 3 ? ExplainJob.sumOverFirstAxis(map) : map))
            }
        }
        return (maps, zero)
    }

    /// The sanity check: a shuffled copy of the model in a fresh scratch folder (removed
    /// afterwards), every map again through it (a `similar:` target is resolved again under the
    /// shuffled weights; a class stays the class resolved on the real model), one Spearman
    /// correlation per method. A map that is constant on either model gets a warning instead.
    private func sanityCorrelations(_ maps: [(name: String, map: Tensor)], _ session: AnalysisSession, _ input: AnalysisInput,
                                    target: TargetSpec, randomization: WeightRandomization) throws
        -> (records: [FaithfulnessReport.SanityCorrelation], warnings: [String]) {
        guard let files = session.files else { throw SessionError.needsImageModel(model: input.name) }
        let folder = (scratchFolder ?? FileManager.default.temporaryDirectory)
            .appendingPathComponent("vitlens-sanity-\(UUID().uuidString)", isDirectory: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let copy = try ModelRandomization.shuffledCopy(of: files, randomization: randomization, seed: seed, into: folder)
        let shuffled = try AnalysisSession(model: copy.directory.path)
        let (shuffledMaps, _) = try self.maps(shuffled, input, target: target, attention: try attentionPass(shuffled, input)?.observers)
        var records: [FaithfulnessReport.SanityCorrelation] = []
        var warnings: [String] = []
        for (real, random) in zip(maps, shuffledMaps) {
            do {
                let rho = try SpearmanCorrelation.value(real.map.values, random.map.values)
                records.append(.init(method: real.name, randomization: randomization.name, seed: seed, spearman: rho))
            } catch FaithfulnessError.constantRanks {
                warnings.append("sanity check: the \(real.name) map is constant on the model or its shuffled copy, no correlation")
            }
        }
        return (records, warnings)
    }

    /// Runs ``evaluate(_:_:)`` and builds `faithfulness.json` (the report's fields with the provenance,
    /// input, target as given, class and label), `curves.csv`, `summary.csv`, `deletion.svg`/`.png`
    /// and `insertion.svg`/`.png`.
    public func run(_ session: AnalysisSession, _ input: AnalysisInput) throws -> AnalysisProduct {
        let result = try evaluate(session, input)
        let report = result.report
        let label = result.classIndex.flatMap { session.vision?.model.labels[$0] }
        var product = AnalysisProduct()
        product.warnings = result.warnings
        let fields = Fields(report: report, input: input.name, layout: LayoutRecord(input.layout), targetSpec: target.description,
                            classIndex: result.classIndex, label: label, gradientZero: result.gradientIsZero)
        product.add("faithfulness.json", .json(Metadata(session.provenance(for: input), fields)))
        product.add("curves.csv", .bytes(Data(report.curvesCSV.utf8)))
        product.add("summary.csv", .bytes(Data(report.summaryCSV.utf8)))
        for insertion in [false, true] {
            let name = insertion ? "insertion" : "deletion"
            product.add("\(name).svg", .bytes(Data(report.svg(insertion: insertion).utf8)))
            product.add("\(name).png", .png(report.plot(insertion: insertion).render(width: 960, height: 540)))
        }
        product.summary.append("\(report.target), baseline \(report.baseline), \(report.steps) steps, \(report.forwards) forwards")
        for m in report.methods {
            let rho = report.sanity.first { $0.method == m.name }.map { ", sanity Spearman \($0.randomization) " + String(format: "%.3f", $0.spearman) } ?? ""
            product.summary.append("\(m.name): deletion AUC " + String(format: "%.4g", m.curves.deletionAUC)
                + ", insertion AUC " + String(format: "%.4g", m.curves.insertionAUC) + rho)
        }
        if let r = report.random {
            product.summary.append("random x\(r.orders): deletion AUC " + String(format: "%.4g", r.curves.deletionAUC)
                + ", insertion AUC " + String(format: "%.4g", r.curves.insertionAUC))
        }
        return product
    }

    /// The report's own fields, flattened, and the job's.
    struct Fields: Encodable, Sendable {
        var report: FaithfulnessReport
        var input: String
        var layout: LayoutRecord
        var targetSpec: String
        var classIndex: Int?
        var label: String?
        var gradientZero: Bool

        enum CodingKeys: String, CodingKey {
            case input, layout, targetSpec = "target_spec", classIndex = "class_index", label, gradientZero = "gradient_zero"
        }

        func encode(to encoder: any Swift.Encoder) throws {
            try report.encode(to: encoder)
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(input, forKey: .input)
            try c.encode(layout, forKey: .layout)
            try c.encode(targetSpec, forKey: .targetSpec)
            try c.encodeIfPresent(classIndex, forKey: .classIndex)
            try c.encodeIfPresent(label, forKey: .label)
            try c.encode(gradientZero, forKey: .gradientZero)
        }
    }
}

/// A bad `vitlens faithfulness` setting: one line each.
public enum FaithfulnessJobError: Error, CustomStringConvertible, Equatable, Sendable {
    case unknownMethod(String)
    case baseline(String)
    case sanity(String)

    public var description: String {
        switch self {
        case .unknownMethod(let m):
            return "unknown method '\(m)': use all or a comma-separated list of "
                + FaithfulnessJob.Method.allCases.map(\.rawValue).joined(separator: ", ")
        case .baseline(let b): return "unknown baseline '\(b)': use mean or blur:R with R at least 1"
        case .sanity(let s): return "unknown sanity setting '\(s)': use all, top-K with K at least 1, or none"
        }
    }
}
