import ViTLensCheckpoint
import ViTLensCore

/// A Linear layer: `y = x Wᵀ + b` with the checkpoint's `weight [out, in]` and `bias [out]` (optional).
///
/// The weight is kept as stored and used transposed by sgemm, except when `in > out` (e.g. the MLP's
/// down projection), where it is transposed once at load to `[in, out]`: OpenBLAS runs that shape
/// about 9% faster untransposed (measured here: 197x768x3072 in 4.70 vs 5.15 ms).
struct Linear {
    let weight: Param
    let bias: Param?
    let outFeatures: Int
    let inFeatures: Int
    /// Whether `weight` holds `[in, out]` (transposed at load) rather than `[out, in]`.
    let inMajor: Bool

    init(_ store: WeightStore, _ prefix: String, out: Int, in inF: Int, bias hasBias: Bool = true) throws {
        self.init(weight: try store.take("\(prefix).weight", shape: [out, inF]),
                  bias: hasBias ? try store.take("\(prefix).bias", shape: [out]) : nil, out: out, in: inF)
    }

    init(weight w: [Float], bias b: [Float]?, out: Int, in inF: Int) {
        outFeatures = out
        inFeatures = inF
        inMajor = inF > out
        if inMajor {
            var t = [Float](repeating: 0, count: w.count)
            for o in 0 ..< out { for i in 0 ..< inF { t[i * out + o] = w[o * inF + i] } }
            weight = Param(t, shape: [inF, out])
        } else {
            weight = Param(w, shape: [out, inF])
        }
        bias = b.map { Param($0, shape: [out]) }
    }

    /// Several Linears over the same input stacked into one (`[sum(out), in]`), e.g. Q, K and V:
    /// one larger GEMM runs faster than three. A part without a bias (`bias: false`) gets zeros
    /// when another part has one; with no bias in any part the layer has none.
    init(stacking parts: [(prefix: String, bias: Bool)], _ store: WeightStore, out: Int, in inF: Int) throws {
        var w: [Float] = []
        var b: [Float] = []
        for part in parts {
            w += try store.take("\(part.prefix).weight", shape: [out, inF])
            b += part.bias ? try store.take("\(part.prefix).bias", shape: [out]) : [Float](repeating: 0, count: out)
        }
        self.init(weight: w, bias: parts.contains(where: \.bias) ? b : nil, out: out * parts.count, in: inF)
    }

    /// `y[rows, out] = x[rows, in] · Wᵀ + b` (weight used transposed by sgemm, no copy); the
    /// product is profiled as `kind`, the bias as ``OpProfile/Kind/biasAdd``.
    ///
    /// With a bias, `y` is first filled with it and the product is accumulated onto it (`beta = 1`):
    /// one write-only pass instead of BLAS zeroing `y` (its `beta = 0` pass) and a read-modify-write
    /// bias pass afterwards (measured at batch 8 on ViT-B/16: the bias pass alone was 1.8% of the forward).
    func callAsFunction(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, profile kind: OpProfile.Kind = .otherGEMM) {
        if let bias {
            let tb = OpProfile.start()
            Kernels.fillRows(y, rows: rows, cols: outFeatures, with: bias.ptr)
            OpProfile.stop(.biasAdd, tb)
        }
        let t = OpProfile.start()
        BLAS.sgemm(transB: !inMajor, m: rows, n: outFeatures, k: inFeatures, a: x, lda: inFeatures,
                   b: weight.ptr, ldb: inMajor ? outFeatures : inFeatures, beta: bias == nil ? 0 : 1, c: y, ldc: outFeatures)
        OpProfile.stopGEMM(kind, t, m: rows, n: outFeatures, k: inFeatures)
    }
}
