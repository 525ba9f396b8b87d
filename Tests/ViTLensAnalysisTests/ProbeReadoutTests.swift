import Testing
import ViTLensAnalysis
import ViTLensCore

/// The gradient explanations read SigLIP's probe (a layout without CLS whose pooling head is the last
/// layer, every row of its fused matrix the probe's row): hand-made fused matrices, exact rows.
@Suite("Probe readout of the gradient explanations")
struct ProbeReadoutTests {
    static let layout = TokenLayout(prefix: [], grid: PatchGrid(rows: 1, columns: 3, patchSize: 8), poolingHeadLayer: 1)
    static let encoder: [Float] = [0.1, 0, 0.2, 0, 0.3, 0, 0.4, 0, 0]
    static let probe: [Float] = [0.2, 0.5, 0.3]

    static func fused(probe: [Float] = probe) throws -> FusedAttentionGradients {
        try FusedAttentionGradients(layout: layout, layers: 0 ... 1, fusion: .positiveThenMean, matrices: [encoder, probe + probe + probe])
    }

    /// `v · M0` for the 3 x 3 encoder matrix.
    static func times(_ v: [Double]) -> [Double] {
        (0 ..< 3).map { j in (0 ..< 3).reduce(0.0) { $0 + v[$1] * Double(encoder[$1 * 3 + j]) } }
    }

    @Test func cheferStartsFromTheProbeRow() throws {
        let e = try CheferRelevance.explain(try Self.fused(), readout: .cls)
        let v = Self.probe.map(Double.init)
        let expected = zip(v, Self.times(v)).map { Float($0 + $1) }
        #expect(zip(e.rows[0].row, expected).allSatisfy { abs($0 - $1) <= 1e-6 }, "\(e.rows[0].row) vs \(expected)")
        #expect(e.map.shape == [1, 3])
    }

    @Test func gradientRolloutIsADistribution() throws {
        // The probe row is normalised first (here it sums to 2), then the encoder layer is a rollout step.
        let e = try GradientRollout.explain(try Self.fused(probe: Self.probe.map { 2 * $0 }), readout: .cls)
        let sums = (0 ..< 3).map { r in 1 + (0 ..< 3).reduce(0.0) { $0 + Double(Self.encoder[r * 3 + $1]) } }
        let w = (0 ..< 3).map { Double(Self.probe[$0]) / sums[$0] }
        let expected = zip(w, Self.times(w)).map { Float($0 + $1) }
        #expect(zip(e.rows[0].row, expected).allSatisfy { abs($0 - $1) <= 1e-6 }, "\(e.rows[0].row) vs \(expected)")
        #expect(abs(e.rows[0].row.reduce(0, +) - 1) <= 1e-6)
        // A probe row without positive attention-gradient leaves the map zero.
        let zero = try GradientRollout.explain(try Self.fused(probe: [0, 0, 0]), readout: .cls)
        #expect(zero.rows[0].row == [0, 0, 0])
    }

    @Test func attentionGradientLayersReadTheProbeAtItsLayer() throws {
        // The encoder layer has no CLS row: the mean of its patch rows.
        let both = try AttentionGradientLayers.explain(try Self.fused(), readout: .cls)
        let mean = Self.times([1.0 / 3, 1.0 / 3, 1.0 / 3]).map(Float.init)
        #expect(zip(both.rows[0].row, mean).allSatisfy { abs($0 - $1) <= 1e-6 }, "\(both.rows[0].row)")
        #expect(both.rows[1].row == Self.probe)
        #expect(both.map.shape == [2, 1, 3])
        let head = try FusedAttentionGradients(layout: Self.layout, layers: 1 ... 1, fusion: .positiveThenMean,
                                               matrices: [Self.probe + Self.probe + Self.probe])
        #expect(try AttentionGradientLayers.explain(head, readout: .cls).rows[0].row == Self.probe)
        // Another readout treats the head's layer as an ordinary layer.
        let patches = try CheferRelevance.explain(try Self.fused(), readout: .meanOfPatches)
        #expect(patches.rows[0].row.count == 3)
    }
}
