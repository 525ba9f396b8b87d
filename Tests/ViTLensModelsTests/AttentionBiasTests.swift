import Foundation
import Testing
import ViTLens
import ViTLensTestSupport
@testable import ViTLensModels

/// The seams for BEiT-like families: per-projection bias flags and an additive per-head score bias,
/// checked on a tiny hand-built one-layer encoder against a naive softmax(QKᵀ/√d + B) computed here.
@Suite struct AttentionBiasTests {
    static let (d, heads, n, ff) = (8, 2, 5, 16)

    /// Deterministic values in [-1, 1).
    struct Numbers {
        var state: UInt64
        mutating func next() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 24) * 2 - 1
        }
        mutating func take(_ count: Int) -> [Float] { (0 ..< count).map { _ in next() } }
    }

    /// Writes one block's weights under ViT's keys (biases only where `spec.biases` has them) and
    /// loads them with `bias` on every layer.
    static func encoder(_ spec: EncoderSpec, bias: AttentionBias? = nil, seed: UInt64 = 7) throws -> (Encoder, [String: Tensor]) {
        var r = Numbers(state: seed)
        let d = spec.hidden
        var t: [String: Tensor] = [:]
        func put(_ key: String, _ shape: [Int]) { t[key] = Tensor(shape: shape, values: r.take(shape.reduce(1, *))) }
        for l in 0 ..< spec.layers {
            let p = "encoder.layer.\(l)."
            for (name, has) in [("query", spec.biases.query), ("key", spec.biases.key), ("value", spec.biases.value)] {
                put(p + "attention.attention.\(name).weight", [d, d])
                if has { put(p + "attention.attention.\(name).bias", [d]) }
            }
            put(p + "attention.output.dense.weight", [d, d]); put(p + "attention.output.dense.bias", [d])
            for norm in ["layernorm_before", "layernorm_after"] { put(p + norm + ".weight", [d]); put(p + norm + ".bias", [d]) }
            switch spec.feedForward {
            case .mlp(let i):
                put(p + "intermediate.dense.weight", [i, d]); put(p + "intermediate.dense.bias", [i])
                put(p + "output.dense.weight", [d, i]); put(p + "output.dense.bias", [d])
            case .swiGLU(let h):
                put(p + "mlp.weights_in.weight", [2 * h, d]); put(p + "mlp.weights_in.bias", [2 * h])
                put(p + "mlp.weights_out.weight", [d, h]); put(p + "mlp.weights_out.bias", [d])
            }
            if spec.layerScale { put(p + "layer_scale1.lambda1", [d]); put(p + "layer_scale2.lambda1", [d]) }
        }
        let folder = try temporaryFolder("bias")
        let url = folder.appendingPathComponent("model.safetensors")
        defer { try? FileManager.default.removeItem(at: folder) }
        try SafeTensorsWriter.write(t, to: url)
        let store = WeightStore(archive: try SafeTensorsArchive(url: url))
        let encoder = try Encoder(store, spec: spec, keys: ViTFamily.keys, attentionBias: { _ in bias.map(AttentionBiasSource.fixed) })
        try store.finish()
        return (encoder, t)
    }

    static func spec(_ biases: ProjectionBiases, layerScale: Bool = false, feedForward: FeedForward = .mlp(intermediate: ff)) -> EncoderSpec {
        EncoderSpec(hidden: d, heads: heads, layers: 1, eps: 1e-5, activation: .gelu, norm: .pre,
                    feedForward: feedForward, layerScale: layerScale, biases: biases)
    }

    /// Layer 0's probabilities `[heads, N, N]`.
    struct Capture: AttentionObserver {
        var probabilities: [Float] = []
        mutating func observe(_ a: LayerAttention) throws { if a.layer == 0 { probabilities = Array(a.probabilities) } }
    }

    static func run(_ encoder: Encoder, _ x: [Float]) throws -> [Float] {
        var capture = Capture()
        var hidden = x
        try hidden.withUnsafeMutableBufferPointer { b in
            try encoder.forward(b.baseAddress!, tokens: n, layout: TokenLayout(textTokens: n), observer: &capture)
        }
        return capture.probabilities
    }

    /// softmax(Q Kᵀ / √dh + B) for layer 0, written out loop by loop (Double accumulation).
    static func reference(_ t: [String: Tensor], _ x: [Float], bias: (Int, Int, Int) -> Double) -> [Float] {
        let p = "encoder.layer.0."
        let (g, b) = (t[p + "layernorm_before.weight"]!.values, t[p + "layernorm_before.bias"]!.values)
        var normed = [Double](repeating: 0, count: n * d)
        for i in 0 ..< n {
            let row = (0 ..< d).map { Double(x[i * d + $0]) }
            let mean = row.reduce(0, +) / Double(d)
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(d)
            for j in 0 ..< d { normed[i * d + j] = (row[j] - mean) / (variance + 1e-5).squareRoot() * Double(g[j]) + Double(b[j]) }
        }
        func project(_ name: String) -> [Double] {
            let w = t[p + "attention.attention.\(name).weight"]!.values
            let bias = t[p + "attention.attention.\(name).bias"]?.values
            var out = [Double](repeating: 0, count: n * d)
            for i in 0 ..< n {
                for o in 0 ..< d {
                    var s = Double(bias?[o] ?? 0)
                    for k in 0 ..< d { s += normed[i * d + k] * Double(w[o * d + k]) }
                    out[i * d + o] = s
                }
            }
            return out
        }
        let (q, k) = (project("query"), project("key"))
        let dh = d / heads
        var probs: [Float] = []
        for h in 0 ..< heads {
            for i in 0 ..< n {
                var scores: [Double] = []
                for j in 0 ..< n {
                    var dot = 0.0
                    for c in 0 ..< dh { dot += q[i * d + h * dh + c] * k[j * d + h * dh + c] }
                    scores.append(dot / Double(dh).squareRoot() + bias(h, i, j))
                }
                let top = scores.max()!
                scores = scores.map { exp($0 - top) }
                let sum = scores.reduce(0, +)
                probs += scores.map { Float($0 / sum) }
            }
        }
        return probs
    }

    static func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).map { abs($0 - $1) }.max() ?? .infinity
    }

    @Test func denseBiasWithoutKeyBiasMatchesTheNaiveSoftmax() throws {
        var r = Numbers(state: 99)
        let values = r.take(Self.heads * Self.n * Self.n).map { $0 * 3 }
        let bias = try AttentionBias(dense: Tensor(shape: [Self.heads, Self.n, Self.n], values: values), file: "bias")
        let (encoder, weights) = try Self.encoder(Self.spec(ProjectionBiases(query: true, key: false, value: true)), bias: bias)
        #expect(weights["encoder.layer.0.attention.attention.key.bias"] == nil)
        let x = r.take(Self.n * Self.d)
        let got = try Self.run(encoder, x)
        let want = Self.reference(weights, x) { h, i, j in Double(values[(h * Self.n + i) * Self.n + j]) }
        #expect(got.count == want.count)
        #expect(Self.maxDifference(got, want) <= 1e-6, "\(Self.maxDifference(got, want))")
        // The bias matters: without it the probabilities differ.
        let plain = Self.reference(weights, x) { _, _, _ in 0 }
        #expect(Self.maxDifference(got, plain) > 1e-3)
    }

    @Test func relativePositionTableMatchesTheNaiveSoftmax() throws {
        var r = Numbers(state: 5)
        let entries = 7
        let table = r.take(entries * Self.heads).map { $0 * 2 }
        let index = (0 ..< Self.n * Self.n).map { ($0 / Self.n * 3 + $0 % Self.n) % entries }
        let bias = try AttentionBias(table: Tensor(shape: [entries, Self.heads], values: table), index: index, file: "bias")
        let (encoder, weights) = try Self.encoder(Self.spec(ProjectionBiases(query: true, key: false, value: true)), bias: bias)
        let x = r.take(Self.n * Self.d)
        let got = try Self.run(encoder, x)
        let want = Self.reference(weights, x) { h, i, j in Double(table[index[i * Self.n + j] * Self.heads + h]) }
        #expect(Self.maxDifference(got, want) <= 1e-6, "\(Self.maxDifference(got, want))")
    }

    @Test func noBiasStillMatchesWithEveryProjectionBias() throws {
        let (encoder, weights) = try Self.encoder(Self.spec(.all))
        var r = Numbers(state: 3)
        let x = r.take(Self.n * Self.d)
        let got = try Self.run(encoder, x)
        #expect(Self.maxDifference(got, Self.reference(weights, x) { _, _, _ in 0 }) <= 1e-6)
    }

    @Test func biasForAnotherTokenCountIsRefused() throws {
        let bias = try AttentionBias(dense: Tensor(zeros: [Self.heads, 4, 4]), file: "bias")
        let (encoder, _) = try Self.encoder(Self.spec(.all), bias: bias)
        #expect(throws: ModelInputError.attentionBiasTokens(tokens: Self.n, biasTokens: 4)) {
            _ = try Self.run(encoder, [Float](repeating: 0, count: Self.n * Self.d))
        }
    }

    @Test func malformedBiasesAreOneLineErrors() throws {
        #expect(throws: ModelError.configInvalid(file: "b", reason: "attention bias has shape [2, 4, 5], expected [heads, N, N]")) {
            try AttentionBias(dense: Tensor(zeros: [2, 4, 5]), file: "b")
        }
        #expect(throws: ModelError.configInvalid(file: "b", reason: "relative position index has 5 entries, not N x N")) {
            try AttentionBias(table: Tensor(zeros: [3, 2]), index: [0, 1, 2, 0, 1], file: "b")
        }
        #expect(throws: ModelError.configInvalid(file: "b", reason: "relative position index 3 is outside the table of 3 entries")) {
            try AttentionBias(table: Tensor(zeros: [3, 2]), index: [0, 1, 2, 3], file: "b")
        }
        let threeHeads = try AttentionBias(dense: Tensor(zeros: [3, Self.n, Self.n]), file: "b")
        #expect(throws: ModelError.self) { _ = try Self.encoder(Self.spec(.all), bias: threeHeads) }
    }

    /// The memory estimate's parameter count is exactly what the blocks keep, for every flag.
    @Test(arguments: [
        (ProjectionBiases.all, false, FeedForward.mlp(intermediate: 16)),
        (ProjectionBiases.none, false, FeedForward.mlp(intermediate: 16)),
        (ProjectionBiases(query: true, key: false, value: true), false, FeedForward.mlp(intermediate: 16)),
        (ProjectionBiases(query: false, key: true, value: false), true, FeedForward.swiGLU(hidden: 8)),
    ])
    func parameterCountMatchesTheLoadedBlocks(_ biases: ProjectionBiases, _ layerScale: Bool, _ feedForward: FeedForward) throws {
        let spec = Self.spec(biases, layerScale: layerScale, feedForward: feedForward)
        let (encoder, _) = try Self.encoder(spec)
        var stored = 0
        for layer in encoder.layers {
            for linear in [layer.qkv, layer.output, layer.fc1, layer.fc2] { stored += linear.parameterCount }
            for norm in [layer.norm1, layer.norm2] { stored += norm.gamma.count + norm.beta.count }
            stored += (layer.scale1?.count ?? 0) + (layer.scale2?.count ?? 0)
        }
        #expect(spec.blockParameterCount == stored)
        // The working memory does not depend on which projections have biases.
        #expect(spec.forwardBytes(tokens: 197, options: [.logits]) == Self.spec(.all, layerScale: layerScale, feedForward: feedForward)
            .forwardBytes(tokens: 197, options: [.logits]))
    }
}
