import Foundation

/// A gradient explanation of one target on one input (docs/ANALYSES.md, "Explanations with
/// gradients"); what `vitlens explain` writes.
///
/// One forward and one backward pass per input feed the method's consumer (an
/// ``AttentionGradientAccumulator`` or an ``InputGradientCapture``) through
/// ``AnalysisSession/gradients(_:target:consumer:)``; a `similar:` or `similar-text:` target adds
/// one plain forward of the other image or sentence.
public struct ExplainJob: Sendable {
    /// The method (default Chefer's relevance).
    public var method = ExplanationMethod.chefer
    /// The target as the user named it (default the predicted class).
    public var target = TargetSpec.top1
    /// Read out the mean of the patch rows instead of CLS (token 0 for layouts without CLS).
    public var meanOfPatches = false
    /// Head fusion and layer range of the attention-gradient methods.
    public var options = AttentionGradientAccumulator.Options()
    public var style = RenderStyle()
    /// Gradient checkpointing: keep only each layer's input and recompute the layer during the
    /// backward (less memory, about one more forward's time, the same map).
    public var recompute = false

    public init() {}

    /// The explanation and the resolved target of the last step, for callers that want values, not files.
    public struct Result: Sendable {
        public var explanation: Explanation
        public var target: GradientTarget
        /// The target's value on the input.
        public var value: Float
        /// The class differentiated, for class targets.
        public var classIndex: Int?
        /// Whether the target's gradient is numerically zero (``GradientResult/gradientIsZero``): the
        /// map is then no explanation.
        public var gradientIsZero = false
    }

    /// The one-line warning for a zero gradient.
    static func zeroGradientWarning(_ target: TargetSpec) -> String {
        "the gradient of \(target) is zero on this input (e.g. an image compared with itself): the map explains nothing"
    }

    /// Resolves the target, runs the pass and applies the method.
    /// - Throws: ``TargetSpecError``, `GradientTargetError`, ``SessionError``, ``InputError``, `AnalysisError` (one line each).
    public func explain(_ session: AnalysisSession, _ input: AnalysisInput) throws -> Result {
        if method != .inputGradient {
            _ = try input.layerIndex(options.firstLayer, option: "--first-layer")
            _ = try input.layerIndex(options.lastLayer, option: "--last-layer")
        }
        var (target, classIndex) = try self.target.resolve(in: session, for: input)
        if let model = session.vision?.model { try model.checkTarget(target, tokens: input.layout.tokenCount) }
        let readout: Readout = meanOfPatches ? .meanOfPatches : .query(try QuerySpec.automatic.resolve(in: input.layout, input: input.name))
        let explanation: Explanation, outcome: GradientOutcome
        if method == .inputGradient {
            var capture = InputGradientCapture()
            outcome = try session.gradients(input, target: target, recompute: recompute, consumer: &capture)
            guard let e = capture.result else { throw SessionError.noResult(analysis: "input x gradient", layer: nil) }
            explanation = e
        } else {
            var accumulator = AttentionGradientAccumulator(options)
            outcome = try session.gradients(input, target: target, recompute: recompute, consumer: &accumulator)
            guard let fused = accumulator.result else { throw SessionError.noResult(analysis: method.rawValue, layer: nil) }
            switch method {
            case .gradientRollout: explanation = try GradientRollout.explain(fused, readout: readout)
            case .attentionGradient: explanation = try AttentionGradientLayers.explain(fused, readout: readout)
            default: explanation = try CheferRelevance.explain(fused, readout: readout)
            }
        }
        if target == .topClassLogit, case .vision(let output) = outcome.output, let logits = output.logits {
            classIndex = VisionTransformer.topClass(logits.values)
        }
        return Result(explanation: explanation, target: target, value: outcome.value, classIndex: classIndex,
                      gradientIsZero: outcome.gradientIsZero)
    }

    /// Runs ``explain(_:_:)`` and builds `relevance.npy` (float32 `[gh, gw]`, `[T]` for text,
    /// `[layers, ...]` for attn-grad), `relevance.png` (over the model input with a colour bar, a
    /// labelled strip for text; the sum over layers for attn-grad) and `explain.json` (with
    /// `explain_seconds`, the wall time of ``explain(_:_:)``).
    public func run(_ session: AnalysisSession, _ input: AnalysisInput) throws -> AnalysisProduct {
        let start = DispatchTime.now().uptimeNanoseconds
        let result = try explain(session, input)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let map = result.explanation.map
        let shown = Self.shownMap(map, layout: input.layout)
        var product = AnalysisProduct()
        product.add("relevance.npy", .array(map))
        product.add("relevance.png", .png(try style.picture(shown, canvas: input.canvas, title: method.rawValue, tokens: input.encoding?.tokens)))
        let label = result.classIndex.flatMap { session.vision?.model.labels[$0] }
        let fields = Fields(input: input.name, layout: LayoutRecord(input.layout), method: method.rawValue, target: target.description,
                            classIndex: result.classIndex, label: label, targetValue: Double(result.value),
                            layers: result.explanation.layers.map { [$0.lowerBound, $0.upperBound] },
                            readout: result.explanation.readout?.description,
                            headFusion: method == .inputGradient ? nil : options.fusion.rawValue, files: ["relevance.npy": map.shape],
                            gradientZero: result.gradientIsZero, recompute: recompute, seconds: seconds)
        product.add("explain.json", .json(Metadata(session.provenance(for: input), fields)))
        let named = result.classIndex.map { " (class \($0)" + (label.map { " \"\($0)\"" } ?? "") + ")" } ?? ""
        product.summary.append("\(method.rawValue) for \(target)\(named): target value " + String(format: "%.6g", result.value))
        if result.gradientIsZero { product.warnings.append(Self.zeroGradientWarning(target)) }
        // Text maps keep the readout token itself (Chefer: >= 1 there); the summary leaves it out.
        var readoutToken: Int?
        if input.layout.grid == nil, case .query(let q)? = result.explanation.readout { readoutToken = try? q.index(in: input.layout) }
        product.summary.append("most relevant: " + Self.top(shown, tokens: input.encoding?.tokens, count: 5, excluding: readoutToken))
        return product
    }

    /// The `count` largest entries of a `[rows, columns]` map as `(row,col) value`, or of a `[T]`
    /// text map as `'token' value`, largest first, leaving out the entry `excluding`.
    static func top(_ map: Tensor, tokens: [String]?, count: Int, excluding: Int? = nil) -> String {
        let v = map.values, columns = map.shape.count == 2 ? map.shape[1] : 0
        return v.indices.filter { $0 != excluding }.sorted { v[$0] > v[$1] || (v[$0] == v[$1] && $0 < $1) }.prefix(count).map { i in
            let value = String(format: "%.4g", v[i])
            if let tokens, tokens.count == v.count { return "'\(tokens[i])' \(value)" }
            return columns > 0 ? "(\(i / columns),\(i % columns)) \(value)" : "\(i) \(value)"
        }.joined(separator: ", ")
    }

    /// `[k, ...] -> [...]`, summing the `k` leading slices.
    /// The map as `relevance.png` draws it: `map` itself, or for attn-grad's `[layers, ...]` the sum
    /// over the layers (a map with one axis more than the layout's tokens or grid).
    public static func shownMap(_ map: Tensor, layout: TokenLayout) -> Tensor {
        map.shape.count == 1 + (layout.grid == nil ? 1 : 2) ? sumOverFirstAxis(map) : map
    }

    static func sumOverFirstAxis(_ t: Tensor) -> Tensor {
        let inner = Array(t.shape.dropFirst()), size = inner.reduce(1, *)
        var sum = [Float](repeating: 0, count: size)
        for k in 0 ..< (t.shape.first ?? 0) { for i in 0 ..< size { sum[i] += t.values[k * size + i] } }
        return Tensor(shape: inner, values: sum)
    }

    struct Fields: Encodable, Sendable {
        var input: String
        var layout: LayoutRecord
        var method: String
        var target: String
        var classIndex: Int?
        var label: String?
        var targetValue: Double
        var layers: [Int]?
        var readout: String?
        var headFusion: String?
        var files: [String: [Int]]
        var gradientZero: Bool
        var recompute: Bool
        /// Wall time of ``explain(_:_:)``: target resolution, forward, backward and the method.
        var seconds: Double

        enum CodingKeys: String, CodingKey {
            case input, layout, method, target, classIndex = "class_index", label, targetValue = "target_value", layers, readout
            case headFusion = "head_fusion", files, gradientZero = "gradient_zero", recompute
            case seconds = "explain_seconds"
        }
    }
}
