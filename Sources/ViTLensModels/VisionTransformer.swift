import ViTLensCheckpoint
import ViTLensCore

/// How a vision family turns pixels into the token sequence.
struct VisionEmbeddings {
    /// Learned prefix vectors that receive position embeddings (CLS, distillation), in order.
    let positioned: [(kind: PrefixToken, vector: Param)]
    /// Learned register vectors inserted after the positioned prefix, without position embeddings.
    let registers: Param?
    /// `[positioned.count + gridRows * gridCols, hidden]`; nil for models without absolute
    /// position embeddings (BEiT with `use_absolute_position_embeddings: false`).
    let positions: Param?
    /// Side of the square grid the position table was trained on.
    let positionGrid: Int
    /// Patch projection `[hidden, channels * patch * patch]` (a Conv2d weight, flattened).
    let patchWeight: Param
    let patchBias: Param?
    /// The same projection (weight and bias) on the packed Linear kernel, where it runs
    /// (``LinearKernel/packedAVX512``): then no BLAS call remains in the forward's products, and the
    /// embeddings' bits do not depend on how BLAS splits its work (OpenBLAS's Haswell kernels round
    /// differently with another thread count or block of rows).
    var packedPatch: Linear?
    let patchSize: Int
    let channels: Int
    /// CLIP's `pre_layrnorm`, applied to the whole sequence before the encoder.
    let preNorm: LayerNorm?
    /// Whether the position grid is resized with PyTorch's antialiased bicubic (DINOv2 with registers).
    var antialiasedPositions = false

    var registerCount: Int { registers.map { $0.count / hiddenSize } ?? 0 }
    var hiddenSize: Int { patchWeight.shape[0] }

    func layout(rows: Int, cols: Int) -> TokenLayout {
        TokenLayout(prefix: positioned.map(\.kind) + Array(repeating: .register, count: registerCount),
                    grid: PatchGrid(rows: rows, columns: cols, patchSize: patchSize))
    }

    /// Writes the embedded sequence `[tokens, hidden]` for `pixels [channels, H, W]` into `out`.
    func embed(_ pixels: UnsafePointer<Float>, height: Int, width: Int, into out: UnsafeMutablePointer<Float>) {
        let d = hiddenSize
        let p = patchSize
        let gh = height / p
        let gw = width / p
        let g = gh * gw
        let np = positioned.count
        let r = registerCount
        let k = channels * p * p

        // im2col: one row per patch, columns ordered (channel, ky, kx) like the Conv2d weight.
        let cols = UnsafeMutablePointer<Float>.allocate(capacity: g * k)
        defer { cols.deallocate() }
        for py in 0 ..< gh {
            for px in 0 ..< gw {
                let row = cols + (py * gw + px) * k
                for c in 0 ..< channels {
                    for ky in 0 ..< p {
                        let src = pixels + (c * height + py * p + ky) * width + px * p
                        (row + (c * p + ky) * p).update(from: src, count: p)
                    }
                }
            }
        }
        // Patch tokens go after the positioned prefix and the registers.
        let patchOut = out + (np + r) * d
        if let packedPatch {
            packedPatch(cols, rows: g, into: patchOut)
        } else {
            BLAS.sgemm(transB: true, m: g, n: d, k: k, a: cols, lda: k, b: patchWeight.ptr, ldb: k, c: patchOut, ldc: d)
            if let b = patchBias { Kernels.addBias(patchOut, rows: g, cols: d, bias: b.ptr) }
        }

        // Position embeddings: prefix part as is; grid part interpolated when the grid differs
        // (Hugging Face keeps the table only for square inputs of the trained size).
        for (i, item) in positioned.enumerated() {
            let dst = out + i * d
            if let positions {
                for j in 0 ..< d { dst[j] = item.vector.ptr[j] + positions.ptr[i * d + j] }
            } else {
                dst.update(from: item.vector.ptr, count: d)
            }
        }
        if let positions { addGridPositions(positions.ptr + np * d, rows: gh, cols: gw, into: patchOut) }
        if let registers {
            (out + np * d).update(from: registers.ptr, count: r * d)
        }
        if let preNorm {
            preNorm(out, rows: np + r + g, into: out)
        }
    }

    /// Adds the grid part of the position table, `gridTable` `[positionGrid^2, hidden]`, to the
    /// `rows x cols` patch embeddings, interpolated when the grid differs.
    private func addGridPositions(_ gridTable: UnsafePointer<Float>, rows gh: Int, cols gw: Int, into patchOut: UnsafeMutablePointer<Float>) {
        let d = hiddenSize
        let g = gh * gw
        if gh == positionGrid && gw == positionGrid {
            Kernels.addInPlace(patchOut, gridTable, count: g * d)
        } else {
            let resized = UnsafeMutablePointer<Float>.allocate(capacity: g * d)
            defer { resized.deallocate() }
            if antialiasedPositions {
                PositionInterpolation.bicubicAntialiased(gridTable, inRows: positionGrid, inCols: positionGrid, dim: d,
                                                         outRows: gh, outCols: gw, into: resized)
            } else {
                PositionInterpolation.bicubic(gridTable, inRows: positionGrid, inCols: positionGrid, dim: d,
                                              outRows: gh, outCols: gw, into: resized)
            }
            Kernels.addInPlace(patchOut, resized, count: g * d)
        }
    }
}

/// What a vision model's head computes from the final hidden states.
enum VisionHead {
    /// `classifier(hidden[token])`.
    case token(Int, Linear)
    /// DeiT with teacher: mean of `cls_classifier(hidden[0])` and `distillation_classifier(hidden[1])`.
    case distilled(cls: Linear, distillation: Linear)
    /// DINOv2: `classifier([hidden[0], mean(patch tokens)])`.
    case clsAndPatchMean(Linear)
    /// BEiT with mean pooling: `classifier(pooled)`, the pooled vector of ``PoolInput/patchMean``.
    case pooled(Linear)
}

/// What the pooling LayerNorm (``VisionTransformer``'s `poolNorm`) normalises.
enum PoolInput {
    /// The first token's final hidden state (CLIP's `post_layernorm`).
    case cls
    /// The mean of the patch tokens' final hidden states (BEiT's `pooler.layernorm` with `use_mean_pooling`).
    case patchMean
}

/// The result of a vision forward pass.
public struct VisionOutput: Sendable {
    /// Final hidden states `[tokens, hidden]` (after the final LayerNorm where the family has one;
    /// CLIP's `last_hidden_state` is the encoder output, as in Hugging Face).
    public var hiddenState: Tensor
    /// The pooled vector where the family defines one (CLIP: `post_layernorm(hidden[0])`;
    /// DINOv2: `hidden[0]`; ViT with a pooler: `tanh(dense(hidden[0]))`; SigLIP: the attention
    /// pooling head's output; BEiT with mean pooling: `pooler.layernorm(mean(patch tokens))`).
    public var pooled: Tensor?
    /// Class logits when the checkpoint has a classifier.
    public var logits: Tensor?
    /// Extra named logits (DeiT: `cls_logits`, `distillation_logits`).
    public var extraLogits: [String: Tensor]
    /// Which tokens are prefix tokens and patches.
    public var layout: TokenLayout
}

/// A Vision Transformer (ViT, DeiT, DINO, DINOv2 with or without registers, CLIP's and SigLIP's
/// vision towers, BEiT and Data2Vec-vision) that delivers every layer's attention to an
/// ``AttentionObserver``; SigLIP's attention pooling head arrives as one more layer (``observedLayers``).
public final class VisionTransformer: @unchecked Sendable {
    /// The Hugging Face `model_type` the model was loaded as.
    public let modelType: String
    /// The encoder's shape.
    public var spec: EncoderSpec { encoder.spec }
    /// Patch side in pixels.
    public var patchSize: Int { embeddings.patchSize }
    /// Input channels.
    public var channels: Int { embeddings.channels }
    /// The input size the position table was trained for (`image_size`).
    public let imageSize: Int
    /// Class names by index (`id2label`), empty without a classifier.
    public let labels: [Int: String]

    let embeddings: VisionEmbeddings
    let encoder: Encoder
    let finalNorm: LayerNorm?
    let poolNorm: LayerNorm?
    /// What `poolNorm` normalises.
    let poolInput: PoolInput
    let pooler: Linear?
    let head: VisionHead?
    let poolingHead: AttentionPoolingHead?

    init(modelType: String, imageSize: Int, labels: [Int: String], embeddings: VisionEmbeddings, encoder: Encoder,
         finalNorm: LayerNorm?, poolNorm: LayerNorm?, poolInput: PoolInput = .cls, pooler: Linear?, head: VisionHead?,
         poolingHead: AttentionPoolingHead? = nil) {
        self.modelType = modelType
        self.imageSize = imageSize
        self.labels = labels
        self.embeddings = embeddings
        self.encoder = encoder
        self.finalNorm = finalNorm
        self.poolNorm = poolNorm
        self.poolInput = poolInput
        self.pooler = pooler
        self.head = head
        self.poolingHead = poolingHead
    }

    /// The number of attention layers an observer sees: the encoder's blocks, plus one for an
    /// attention pooling head (SigLIP), delivered last as layer `spec.layers`.
    public var observedLayers: Int { spec.layers + (poolingHead == nil ? 0 : 1) }

    /// The token layout for an input of `height x width` pixels (marking the pooling head's layer).
    public func layout(height: Int, width: Int) -> TokenLayout {
        var layout = embeddings.layout(rows: height / patchSize, cols: width / patchSize)
        if poolingHead != nil { layout.poolingHeadLayer = spec.layers }
        return layout
    }

    /// Runs the model on `pixels [channels, H, W]`, delivering each layer's attention to `observer`.
    ///
    /// Any `H x W` of at least one patch works: the position embeddings are interpolated as
    /// Hugging Face's `interpolate_pos_encoding=True` does; pixels past the last whole patch are
    /// ignored (the patch Conv2d's floor).
    /// - Throws: ``ModelInputError`` for a bad input,
    ///   ``CheckpointError/nonFiniteActivation(file:stage:)`` when the pass overflows (see
    ///   `Encoder.forward`), or whatever the observer throws.
    public func forward<O: AttentionObserver>(_ pixels: Tensor, observer: inout O) throws -> VisionOutput {
        let (height, width) = try inputSize(pixels)
        BuildNotice.warnIfUnoptimized()
        let layout = layout(height: height, width: width)
        let n = layout.tokenCount
        let d = spec.hidden
        try memoryEstimate(height: height, width: width, observer: observer).check()
        var hidden = [Float](repeating: 0, count: n * d)
        var pooled: [Float]?
        try hidden.withUnsafeMutableBufferPointer { hb in
            let x = hb.baseAddress!
            pixels.values.withUnsafeBufferPointer { embeddings.embed($0.baseAddress!, height: height, width: width, into: x) }
            try encoder.forward(x, tokens: n, layout: layout, readoutLayers: observedLayers - spec.layers, observer: &observer)
            if let finalNorm {
                finalNorm(x, rows: n, into: x)
                try encoder.requireFinite(x, count: n * d, stage: "the final layernorm")
            }
            pooled = try finishWithPoolingHead(x, layout: layout, observer: &observer)
        }
        return try outputs(hidden: hidden, layout: layout, pooled: pooled)
    }

    /// Runs the model on a batch of images of one size, `pixels[b]` `[channels, H, W]`, in one
    /// pass: every Linear is one GEMM over all images' tokens, attention runs per image, and image
    /// `b`'s attention goes to `observers[b]` alone (begin, each layer, finish, exactly as a
    /// single-image ``forward(_:observer:)`` delivers it). Outputs are in input order and equal the
    /// single-image pass's (bit for bit with the BLAS libraries measured; docs/PERFORMANCE.md).
    ///
    /// The memory estimate for the whole batch (``memoryEstimate(height:width:observers:)``) is
    /// checked before anything is allocated.
    /// - Throws: ``ModelInputError/batchShapesDiffer(first:image:found:)`` for images of different
    ///   sizes (and the errors of ``forward(_:observer:)``; a non-finite activation names the image).
    public func forward<O: AttentionObserver>(batch pixels: [Tensor], observers: inout [O]) throws -> [VisionOutput] {
        guard let first = pixels.first else { return [] }
        guard observers.count == pixels.count else {
            throw ModelInputError.batchNotSupported(reason: "\(pixels.count) images but \(observers.count) observers")
        }
        let (height, width) = try inputSize(first)
        for (b, p) in pixels.enumerated() where p.shape != first.shape {
            throw ModelInputError.batchShapesDiffer(first: first.shape, image: b, found: p.shape)
        }
        BuildNotice.warnIfUnoptimized()
        let layout = layout(height: height, width: width)
        let n = layout.tokenCount
        let d = spec.hidden
        try memoryEstimate(height: height, width: width, observers: observers).check()
        let perImage = n * d
        var hidden = [Float](repeating: 0, count: pixels.count * perImage)
        var pooled = [[Float]?](repeating: nil, count: pixels.count)
        try hidden.withUnsafeMutableBufferPointer { hb in
            let x = hb.baseAddress!
            for (b, p) in pixels.enumerated() {
                p.values.withUnsafeBufferPointer { embeddings.embed($0.baseAddress!, height: height, width: width, into: x + b * perImage) }
            }
            try observers.withUnsafeMutableBufferPointer { obs in
                try encoder.forward(x, tokens: n, layout: layout, readoutLayers: observedLayers - spec.layers, observers: obs)
            }
            if let finalNorm {
                finalNorm(x, rows: pixels.count * n, into: x)
                try encoder.requireFinite(x, count: pixels.count * perImage, stage: "the final layernorm", tokensPerImage: pixels.count > 1 ? n : nil)
            }
            for b in 0 ..< pixels.count {
                pooled[b] = try finishWithPoolingHead(x + b * perImage, layout: layout, observer: &observers[b])
            }
        }
        return try (0 ..< pixels.count).map { b in
            try outputs(hidden: Array(hidden[(b * perImage) ..< ((b + 1) * perImage)]), layout: layout, pooled: pooled[b])
        }
    }

    /// The estimated peak memory of ``forward(batch:observers:)`` for `observers.count` images of
    /// `height x width`: weights once, the row buffers and outputs of every image, one image's
    /// attention buffers and patch matrix (attention runs one image at a time), and what every
    /// observer keeps.
    public func memoryEstimate<O: AttentionObserver>(height: Int, width: Int, observers: [O]) -> MemoryEstimate {
        let options = observers.reduce(into: CaptureOptions()) { $0.formUnion($1.captureOptions) }
        var one = memoryEstimate(height: height, width: width, observer: BatchOptions(captureOptions: options))
        guard observers.count > 0 else { return one }
        let n = one.tokens
        let (ff, gate) = spec.feedForwardWidths
        let rowBytes = Limits.sum(MemoryEstimate.floats(n, spec.hidden, 8), MemoryEstimate.floats(n, ff),
                                  MemoryEstimate.floats(n, max(1, gate)), MemoryEstimate.floats(channels, height, width)) ?? .max
        let more = Limits.product(observers.count - 1, rowBytes) ?? .max
        one.forward = Limits.sum(one.forward, more) ?? .max
        let geometry = AttentionGeometry(layers: observedLayers, heads: spec.heads, tokens: n, headDim: spec.headDim,
                                         layout: layout(height: height, width: width))
        one.observers = observers.reduce(0) { Limits.sum($0, $1.estimatedBytes(for: geometry)) ?? .max }
        return one
    }

    /// `(height, width)` of `pixels [channels, H, W]`.
    /// - Throws: ``ModelInputError`` for another shape or an input smaller than one patch.
    func inputSize(_ pixels: Tensor) throws -> (height: Int, width: Int) {
        guard pixels.shape.count == 3, pixels.shape[0] == channels else {
            throw ModelInputError.badPixelShape(found: pixels.shape, channels: channels)
        }
        let height = pixels.shape[1]
        let width = pixels.shape[2]
        guard height >= patchSize, width >= patchSize else {
            throw ModelInputError.tooSmall(height: height, width: width, patchSize: patchSize)
        }
        return (height, width)
    }

    /// The model's outputs (pooled vector, logits) from the final hidden states `[tokens, hidden]`;
    /// `pooled` is the attention pooling head's output when the model has one.
    /// - Throws: ``CheckpointError/nonFiniteActivation(file:stage:)`` when one overflows.
    func outputs(hidden: [Float], layout: TokenLayout, pooled headOutput: [Float]? = nil) throws -> VisionOutput {
        let d = spec.hidden
        var out = VisionOutput(hiddenState: Tensor(shape: [hidden.count / d, d], values: hidden), pooled: nil, logits: nil,
                               extraLogits: [:], layout: layout)
        let cls = Array(hidden[0 ..< d])
        if let headOutput {
            out.pooled = Tensor(shape: [d], values: headOutput)
        } else if let poolNorm {
            var pooled = [Float](repeating: 0, count: d)
            let input = poolNormInput(hidden: hidden, layout: layout)
            input.withUnsafeBufferPointer { c in pooled.withUnsafeMutableBufferPointer { poolNorm(c.baseAddress!, rows: 1, into: $0.baseAddress!) } }
            out.pooled = Tensor(shape: [d], values: pooled)
        } else if let pooler {
            var pooled = apply(pooler, cls)
            for i in pooled.indices { pooled[i] = tanhf(pooled[i]) }
            out.pooled = Tensor(shape: [d], values: pooled)
        }
        switch head {
        case .token(let t, let linear)?:
            let v = apply(linear, Array(hidden[(t * d) ..< ((t + 1) * d)]))
            out.logits = Tensor(shape: [v.count], values: v)
        case .distilled(let c, let dist)?:
            let a = apply(c, Array(hidden[0 ..< d]))
            let b = apply(dist, Array(hidden[d ..< 2 * d]))
            out.extraLogits["cls_logits"] = Tensor(shape: [a.count], values: a)
            out.extraLogits["distillation_logits"] = Tensor(shape: [b.count], values: b)
            out.logits = Tensor(shape: [a.count], values: zip(a, b).map { ($0 + $1) / 2 })
        case .clsAndPatchMean(let linear)?:
            let v = apply(linear, cls + patchMean(hidden: hidden, layout: layout))
            out.logits = Tensor(shape: [v.count], values: v)
        case .pooled(let linear)?:
            let v = apply(linear, out.pooled?.values ?? cls)
            out.logits = Tensor(shape: [v.count], values: v)
        case nil:
            break
        }
        for (stage, t) in [("the pooled output", out.pooled), ("the classifier logits", out.logits)] {
            if let t, Finite.firstNonFinite(t.values) != nil {
                throw CheckpointError.nonFiniteActivation(file: encoder.weightsFile, stage: stage)
            }
        }
        return out
    }

    /// The vector `poolNorm` normalises: the CLS row or the mean of the patch rows of `hidden`.
    func poolNormInput(hidden: [Float], layout: TokenLayout) -> [Float] {
        let d = spec.hidden
        switch poolInput {
        case .cls:
            return Array(hidden[0 ..< d])
        case .patchMean:
            return patchMean(hidden: hidden, layout: layout)
        }
    }

    /// The mean of the patch rows of `hidden` (summed in token order, then divided).
    func patchMean(hidden: [Float], layout: TokenLayout) -> [Float] {
        let d = spec.hidden
        var mean = [Float](repeating: 0, count: d)
        for t in layout.patchRange { for j in 0 ..< d { mean[j] += hidden[t * d + j] } }
        let g = Float(layout.patchRange.count)
        for j in 0 ..< d { mean[j] /= g }
        return mean
    }

    /// The estimated peak memory of ``forward(_:observer:)`` on a `height x width` input with
    /// `observer`: weights, the forward's working memory (with the patch matrix and interpolated
    /// position table), and what the observer keeps. ``forward(_:observer:)`` refuses inputs whose
    /// estimate is above ``MemoryBudget/limit``.
    public func memoryEstimate<O: AttentionObserver>(height: Int, width: Int, observer: O) -> MemoryEstimate {
        let layout = layout(height: height, width: width)
        let n = layout.tokenCount, d = spec.hidden
        let g = layout.grid?.count ?? 0
        let patchInputs = Limits.product(channels, patchSize, patchSize) ?? .max
        let embeddingParameters = Limits.sum(embeddings.positions?.count ?? 0, Limits.product(patchInputs, d) ?? .max,
                                             embeddings.packedPatch?.parameterCount ?? 0) ?? .max
        let weights = MemoryEstimate.floats(Limits.sum(spec.blockParameterCount, embeddingParameters, encoder.biasParameterCount,
                                                       poolingHead?.parameterCount ?? 0) ?? .max)
        let embed = Limits.sum(MemoryEstimate.floats(g, patchInputs), MemoryEstimate.floats(g, d), MemoryEstimate.floats(2, channels, height, width)) ?? .max
        let forward = Limits.sum(spec.forwardBytes(tokens: n, options: observer.captureOptions), embed,
                                 poolingHeadBytes(tokens: n, options: observer.captureOptions)) ?? .max
        let geometry = AttentionGeometry(layers: observedLayers, heads: spec.heads, tokens: n, headDim: spec.headDim, layout: layout)
        return MemoryEstimate(weights: weights, forward: forward, observers: observer.estimatedBytes(for: geometry), tokens: n)
    }

    /// Forward pass without attention capture.
    public func forward(_ pixels: Tensor) throws -> VisionOutput {
        var none = NoObserver()
        return try forward(pixels, observer: &none)
    }

    /// Capture options without anything kept: the batch estimate's stand-in for one observer.
    private struct BatchOptions: AttentionObserver {
        let captureOptions: CaptureOptions
        mutating func observe(_ attention: LayerAttention) throws {}
    }

    func apply(_ linear: Linear, _ x: [Float]) -> [Float] {
        var y = [Float](repeating: 0, count: linear.outFeatures)
        x.withUnsafeBufferPointer { xb in y.withUnsafeMutableBufferPointer { linear(xb.baseAddress!, rows: 1, into: $0.baseAddress!) } }
        return y
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
