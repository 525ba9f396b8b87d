import Foundation
import Testing
import ViTLens
import ViTLensCore
@testable import ViTLensModels
import ViTLensTestSupport

/// Gradients through SigLIP's attention pooling head: central finite differences through the Swift
/// forward for dTarget/dEmbeddings (GradientCheckTests' check), for dTarget/dA of the pooling
/// head's layer `L` (perturbing the probe's attention) and of the last encoder layer (perturbing
/// its attention and running the rest of the model on), and the layout of layer `L`.
@Suite struct SigLIPGradientTests {
    let caseName = "siglip-vision-rocket-40x64"

    func load() throws -> (VisionTransformer, Tensor) {
        let model = try ModelLoader.loadVision(try ModelLocator.resolve(Fixtures.url("models/siglip-vision").path))
        return (model, try fixtureTensor("cases/\(caseName)/pixel_values.npy"))
    }

    /// A fixed reference vector for the `similar:`-style pooled cosine.
    func reference(_ model: VisionTransformer) -> [Float] { (0 ..< model.spec.hidden).map { Float($0 % 7) - 2.5 } }

    @Test(arguments: ["pooled", "token"])
    func embeddingFiniteDifferences(_ kind: String) throws {
        let (model, pixels) = try load()
        let target: GradientTarget = kind == "pooled" ? .pooledCosine(to: reference(model)) : .tokenCosine(token: 3, to: 17)
        let analytic = try GradientCheckTests.expectFiniteDifferencesAgree(model, pixels, target)
        // The value is the forward's: the cosine of the pooling head's output.
        #expect(abs(try model.targetValue(target, pixels: pixels) - analytic.value) <= 1e-5)
    }

    /// The pooling head's layer arrives first, broadcast like the forward's (every row equal), and
    /// its gradient agrees with `h = 1e-3` central differences of the target in the probe's attention
    /// (through the head's readout in Float32, differences in Double) to `1e-3 * max|dA|`. A token
    /// cosine does not read the head: zero gradient there.
    @Test func poolingHeadLayerFiniteDifferences() throws {
        let (model, pixels) = try load()
        let v = reference(model)
        var recorder = GradientRecorder()
        let result = try model.gradients(pixels, target: .pooledCosine(to: v), observer: &recorder)
        let l = model.spec.layers, h = model.spec.heads, n = result.output.layout.tokenCount
        #expect(recorder.order == Array((0 ... l).reversed()))
        #expect(recorder.gradients.shape == [l + 1, h, n, n])
        let square = h * n * n
        let dA = Array(recorder.gradients.values[(l * square) ..< ((l + 1) * square)])
        let attention = Array(recorder.attentions.values[(l * square) ..< ((l + 1) * square)])
        for head in 0 ..< h {
            for i in 1 ..< n {
                #expect(dA[(head * n + i) * n ..< (head * n + i + 1) * n] == dA[head * n * n ..< head * n * n + n])
                #expect(attention[(head * n + i) * n ..< (head * n + i + 1) * n] == attention[head * n * n ..< head * n * n + n])
            }
        }
        let poolingHead = try #require(model.poolingHead)
        let pass = result.output.hiddenState.values.withUnsafeBufferPointer { poolingHead($0.baseAddress!, tokens: n) }
        #expect(compare(Tensor(shape: [h, n], values: pass.probabilities),
                        Tensor(shape: [h, n], values: (0 ..< h).flatMap { attention[($0 * n * n) ..< ($0 * n * n + n)] })).within(.attention))
        let scale = dA.map(abs).max() ?? 0
        #expect(scale > 0)
        let delta: Float = 1e-3
        var checked = 0
        for head in 0 ..< h {
            let row = (0 ..< n).map { dA[head * n * n + $0] }
            let largest = row.indices.sorted { abs(row[$0]) > abs(row[$1]) }.prefix(3)
            for t in Array(largest) + [0, n / 2, n - 1] {
                var plus = pass.probabilities, minus = plus
                plus[head * n + t] += delta
                minus[head * n + t] -= delta
                let fp = try Cosine.value(poolingHead.read(probabilities: plus, keyValue: pass.keyValue, tokens: n).pooled, v).value
                let fm = try Cosine.value(poolingHead.read(probabilities: minus, keyValue: pass.keyValue, tokens: n).pooled, v).value
                let fd = (Double(fp) - Double(fm)) / (Double(plus[head * n + t]) - Double(minus[head * n + t]))
                #expect(abs(fd - Double(row[t])) <= 1e-3 * Double(scale), "head \(head) token \(t): \(fd) vs \(row[t])")
                checked += 1
            }
        }
        #expect(checked == 6 * h)

        var tokens = GradientRecorder()
        _ = try model.gradients(pixels, target: .tokenCosine(token: 0, to: 1), observer: &tokens)
        #expect(tokens.gradients.values[(l * square)...].allSatisfy { $0 == 0 })
        #expect(tokens.gradients.values[0 ..< (l * square)].contains { $0 != 0 })
    }

    /// dTarget/dA of the last encoder layer against central differences: the test runs that block
    /// from its input with one attention entry moved by `h = 1e-2` (with 1e-3 the Float32 rounding of the
    /// cosine, ~4e-5 here, exceeds the tolerance), then `post_layernorm`, the head
    /// and the cosine (Float32, differences in Double), to `1e-3 * max|dA|`.
    @Test func encoderLayerFiniteDifferences() throws {
        let (model, pixels) = try load()
        let v = reference(model)
        var recorder = GradientRecorder()
        let result = try model.gradients(pixels, target: .pooledCosine(to: v), observer: &recorder)
        let spec = model.spec, l = spec.layers - 1, h = spec.heads, n = result.output.layout.tokenCount
        let square = h * n * n
        let dA = Array(recorder.gradients.values[(l * square) ..< ((l + 1) * square)])
        let attention = Array(recorder.attentions.values[(l * square) ..< ((l + 1) * square)])
        var input = result.embeddings.values
        var none = NoObserver()
        try input.withUnsafeMutableBufferPointer {
            try model.encoder.forward($0.baseAddress!, tokens: n, layout: result.output.layout, only: 0 ..< l, observer: &none)
        }
        // The unperturbed block reproduces the pass's target.
        #expect(abs(try lastBlockTarget(model, input: input, attention: attention, reference: v) - result.value) <= 1e-5)
        let scale = dA.map(abs).max() ?? 0
        #expect(scale > 0)
        let largest = dA.indices.sorted { abs(dA[$0]) > abs(dA[$1]) }.prefix(4)
        let delta: Float = 1e-2
        for i in Array(largest) + [0, square / 3, square / 2, square - 1] {
            var plus = attention, minus = attention
            plus[i] += delta
            minus[i] -= delta
            let fp = try lastBlockTarget(model, input: input, attention: plus, reference: v)
            let fm = try lastBlockTarget(model, input: input, attention: minus, reference: v)
            let fd = (Double(fp) - Double(fm)) / (Double(plus[i]) - Double(minus[i]))
            #expect(abs(fd - Double(dA[i])) <= 1e-3 * Double(scale), "entry \(i): \(fd) vs \(dA[i]), max \(scale)")
        }
    }

    /// The pooled cosine after SigLIP's last (pre-norm) block run from `x [N, D]` with the given
    /// attention `[heads, N, N]` in place of its softmax: `m = x + out(A V)`, `y = m + fc2(act(fc1(LN2(m))))`,
    /// then `post_layernorm` and the pooling head.
    func lastBlockTarget(_ model: VisionTransformer, input x: [Float], attention: [Float], reference: [Float]) throws -> Float {
        let spec = model.spec, d = spec.hidden, h = spec.heads, dh = spec.headDim
        let n = x.count / d
        let layer = model.encoder.layers[spec.layers - 1]
        func linear(_ f: Linear, _ input: [Float], rows: Int) -> [Float] {
            var out = [Float](repeating: 0, count: rows * f.outFeatures)
            input.withUnsafeBufferPointer { i in out.withUnsafeMutableBufferPointer { f(i.baseAddress!, rows: rows, into: $0.baseAddress!) } }
            return out
        }
        func norm(_ f: LayerNorm, _ input: [Float]) -> [Float] {
            var out = input
            input.withUnsafeBufferPointer { i in out.withUnsafeMutableBufferPointer { f(i.baseAddress!, rows: n, into: $0.baseAddress!) } }
            return out
        }
        let qkv = linear(layer.qkv, norm(layer.norm1, x), rows: n)
        var context = [Float](repeating: 0, count: n * d)
        for head in 0 ..< h {
            for i in 0 ..< n {
                for t in 0 ..< n {
                    let a = attention[(head * n + i) * n + t]
                    for j in 0 ..< dh { context[i * d + head * dh + j] += a * qkv[t * 3 * d + 2 * d + head * dh + j] }
                }
            }
        }
        let attended = linear(layer.output, context, rows: n)
        let m = zip(x, attended).map { $0 + $1 }
        var inner = linear(layer.fc1, norm(layer.norm2, m), rows: n)
        inner.withUnsafeMutableBufferPointer { spec.activation.apply($0.baseAddress!, count: $0.count) }
        let y = zip(m, linear(layer.fc2, inner, rows: n)).map { $0 + $1 }
        let finalNorm = try #require(model.finalNorm)
        let hidden = norm(finalNorm, y)
        let head = try #require(model.poolingHead)
        let pooled = hidden.withUnsafeBufferPointer { head($0.baseAddress!, tokens: n) }.pooled
        return try Cosine.value(pooled, reference).value
    }

    /// torch autograd (tools/make_siglip_fixtures.py --gradients): the pooled cosine's value, the
    /// embeddings, dTarget/dEmbeddings and every layer's dTarget/dA (the head's layer broadcast to
    /// every row) within `1e-4` (`.hidden`).
    @Test func gradientsMatchTorchAutograd() throws {
        let (model, pixels) = try load()
        let dir = "cases/siglip-vision-rocket-40x64-gradients"
        var recorder = GradientRecorder()
        let result = try model.gradients(pixels, target: .pooledCosine(to: reference(model)), observer: &recorder)
        #expect(abs(result.value - (try fixtureTensor("\(dir)/target_value.npy")).values[0]) <= 1e-5)
        let embeddings = compare(result.embeddings, try fixtureTensor("\(dir)/embeddings.npy"))
        #expect(embeddings.within(.hidden), "embeddings: \(embeddings)")
        let attention = compare(recorder.gradients, try fixtureTensor("\(dir)/attention_gradients.npy"))
        #expect(attention.within(.hidden), "dA: \(attention)")
        let input = compare(result.embeddingGradient, try fixtureTensor("\(dir)/embedding_gradient.npy"))
        #expect(input.within(.hidden), "dE: \(input)")
    }

    /// Gradient checkpointing gives the same numbers through the head.
    @Test func recomputeGivesTheSameGradients() throws {
        let (model, pixels) = try load()
        var a = GradientRecorder(), b = GradientRecorder()
        let target = GradientTarget.pooledCosine(to: reference(model))
        let stored = try model.gradients(pixels, target: target, observer: &a)
        let recomputed = try model.gradients(pixels, target: target, recompute: true, observer: &b)
        #expect(stored.embeddingGradient.values == recomputed.embeddingGradient.values)
        #expect(a.gradients.values == b.gradients.values)
    }

    /// SigLIP has no classifier: class targets are refused on one line; the estimate counts layer `L`.
    @Test func classTargetsRefusedAndEstimate() throws {
        let (model, pixels) = try load()
        var none = NoGradientObserver()
        #expect(throws: GradientTargetError.noClassifier(modelType: "siglip_vision_model")) {
            _ = try model.gradients(pixels, target: .topClassLogit, observer: &none)
        }
        let e = model.gradientMemoryEstimate(height: 40, width: 64, observer: GradientRecorder())
        #expect(e.observers == 2 * (model.spec.layers + 1) * model.spec.heads * 40 * 40 * 4)
    }
}
