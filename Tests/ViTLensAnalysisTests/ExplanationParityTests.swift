import Testing
import ViTLensAnalysis
import ViTLensCore
import ViTLensTestSupport

/// Every method's map equals the NumPy reference of `tools/make_explain_fixtures.py`, whether the
/// layers arrive first-to-last or last-first (as a backward pass delivers them).
@Suite("Explanation parity")
struct ExplanationParityTests {
    static let orders: [(name: String, reversed: Bool)] = [("forward", false), ("reverse", true)]

    @Test("Chefer, gradient rollout and attention x gradient match the reference", arguments: ExplanationFixture.cases)
    func attentionMethods(_ name: String) throws {
        let f = try ExplanationFixture(name)
        let layers = Array(0 ..< f.meta.shape.layers)
        for (orderName, reversed) in Self.orders {
            let fused = try f.accumulate(order: reversed ? layers.reversed() : layers)
            #expect(fused.layers == 0 ... layers.count - 1)
            for readoutName in f.meta.readouts.keys.sorted() {
                let readout = try f.readout(readoutName)
                let label = "\(name) \(orderName) \(readoutName)"
                let chefer = try CheferRelevance.explain(fused, readout: readout)
                expectMatch(chefer.map, try f.tensor("chefer_\(readoutName)"), ExplanationFixture.tolerance, "chefer \(label)")
                expectMatch(Tensor(shape: [f.meta.shape.tokens], values: chefer.rows[0].row),
                            try f.tensor("chefer_\(readoutName)_rows"), ExplanationFixture.tolerance, "chefer row \(label)")
                let rollout = try GradientRollout.explain(fused, readout: readout)
                expectMatch(rollout.map, try f.tensor("grad_rollout_\(readoutName)"), ExplanationFixture.tolerance, "grad-rollout \(label)")
                let perLayer = try AttentionGradientLayers.explain(fused, readout: readout)
                expectMatch(perLayer.map, try f.tensor("attn_grad_\(readoutName)"), ExplanationFixture.tolerance, "attn-grad \(label)")
                #expect(perLayer.map.shape.first == layers.count)
            }
        }
    }

    @Test("vit-explain's fusion order (mean, then clamp) matches its reference", arguments: ExplanationFixture.cases)
    func meanThenPositive(_ name: String) throws {
        let f = try ExplanationFixture(name)
        let fused = try f.accumulate(.init(fusion: .meanThenPositive))
        let rollout = try GradientRollout.explain(fused, readout: try f.readout("cls"))
        expectMatch(rollout.map, try f.tensor("grad_rollout_mean_then_positive_cls"), ExplanationFixture.tolerance, "\(name) mean-then-positive")
        // And it is a different map from Chefer's order on these fixtures.
        let chefer = try GradientRollout.explain(try f.accumulate(), readout: try f.readout("cls"))
        #expect(compare(rollout.map, chefer.map).maxAbsDiff > 1e-4)
    }

    @Test("The full Chefer matrix matches the literal update", arguments: ExplanationFixture.cases)
    func cheferMatrix(_ name: String) throws {
        let f = try ExplanationFixture(name)
        let r = CheferRelevance.matrix(try f.accumulate(order: Array(0 ..< f.meta.shape.layers).reversed()))
        expectMatch(r, try f.tensor("chefer_matrix"), ExplanationFixture.tolerance, "\(name) R")
    }

    @Test("Input x gradient matches the reference (L2 norm and signed sum)", arguments: ExplanationFixture.cases)
    func inputGradient(_ name: String) throws {
        let f = try ExplanationFixture(name)
        let l2 = try InputGradient.explain(embeddings: f.embeddings, gradient: f.embeddingGradients, layout: f.layout)
        expectMatch(l2.map, try f.tensor("input_grad"), ExplanationFixture.tolerance, "\(name) input-grad")
        expectMatch(Tensor(shape: [f.meta.shape.tokens], values: l2.rows[0].row), try f.tensor("input_grad_rows"),
                    ExplanationFixture.tolerance, "\(name) input-grad row")
        let sum = try InputGradient.explain(embeddings: f.embeddings, gradient: f.embeddingGradients, layout: f.layout, reduction: .signedSum)
        expectMatch(sum.map, try f.tensor("input_grad_sum"), ExplanationFixture.tolerance, "\(name) input-grad sum")
        #expect(l2.method == .inputGradient && l2.layers == nil)
    }

    @Test("One backward pass feeds the accumulator and the input x gradient capture together", arguments: ExplanationFixture.cases)
    func composedConsumers(_ name: String) throws {
        let f = try ExplanationFixture(name)
        var pair = GradientConsumerPair(AttentionGradientAccumulator(), InputGradientCapture())
        try f.feed(&pair, order: Array(0 ..< f.meta.shape.layers).reversed())
        let fused = try #require(pair.first.result)
        let chefer = try CheferRelevance.explain(fused, readout: try f.readout("cls"))
        expectMatch(chefer.map, try f.tensor("chefer_cls"), ExplanationFixture.tolerance, "\(name) chefer (pair)")
        let input = try #require(pair.second.result)
        expectMatch(input.map, try f.tensor("input_grad"), ExplanationFixture.tolerance, "\(name) input-grad (pair)")
        let n = f.meta.shape.tokens
        #expect(pair.estimatedBytes(for: f.geometry) == f.meta.shape.layers * n * n * 4 + n * 4)
    }

    @Test("Gradient rollout rows are distributions; Chefer rows are at least the identity's readout", arguments: ExplanationFixture.cases)
    func rowInvariants(_ name: String) throws {
        let f = try ExplanationFixture(name)
        let fused = try f.accumulate()
        let readout = try f.readout("cls")
        let rollout = try GradientRollout.explain(fused, readout: readout).rows[0].row
        #expect(abs(rollout.reduce(0, +) - 1) < 1e-5)
        #expect(rollout.allSatisfy { $0 >= 0 })
        let chefer = try CheferRelevance.explain(fused, readout: readout).rows[0].row
        #expect(chefer[0] >= 1 && chefer.allSatisfy { $0 >= 0 })
    }
}
