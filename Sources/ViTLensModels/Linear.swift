import CViTLensKernels
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

    /// Reads `prefix.weight [out, in]` and (when `bias`) `prefix.bias [out]` straight from the
    /// checkpoint into the layer's own buffers: one fresh copy of each weight, no intermediate
    /// arrays (the `in > out` weight goes through one array for its transpose).
    init(_ store: WeightStore, _ prefix: String, out: Int, in inF: Int, bias hasBias: Bool = true) throws {
        try self.init(store, parts: [(prefix, hasBias)], out: out, in: inF)
    }

    init(weight w: [Float], bias b: [Float]?, out: Int, in inF: Int) {
        outFeatures = out
        inFeatures = inF
        inMajor = inF > out
        if inMajor {
            let t = Param(uninitialized: [inF, out])
            w.withUnsafeBufferPointer { Self.transpose($0.baseAddress!, rows: out, cols: inF, into: t.pointer) }
            weight = t
        } else {
            weight = Param(w, shape: [out, inF])
        }
        bias = b.map { Param($0, shape: [out]) }
    }

    /// Several Linears over the same input stacked into one (`[sum(out), in]`), e.g. Q, K and V:
    /// one larger GEMM runs faster than three. A part without a bias (`bias: false`) gets zeros
    /// when another part has one; with no bias in any part the layer has none.
    init(stacking parts: [(prefix: String, bias: Bool)], _ store: WeightStore, out: Int, in inF: Int) throws {
        try self.init(store, parts: parts, out: out, in: inF)
    }

    /// Fills `[parts * out, in]` part by part from the checkpoint (each part's rows written in
    /// place); a part without a bias gets zeros when another part has one.
    private init(_ store: WeightStore, parts: [(prefix: String, bias: Bool)], out: Int, in inF: Int) throws {
        let rows = out * parts.count
        let stored = Param(uninitialized: [rows, inF])
        for (k, part) in parts.enumerated() {
            let key = "\(part.prefix).weight"
            let found = try store.takeOptional(key, shape: [out, inF]) { count in
                UnsafeMutableBufferPointer(start: stored.pointer + k * out * inF, count: count)
            }
            guard found else { throw CheckpointError.missingWeight(key: key, file: store.file) }
        }
        var b: Param?
        if parts.contains(where: \.bias) {
            let values = Param(uninitialized: [rows])
            for (k, part) in parts.enumerated() {
                let slice = values.pointer + k * out
                guard part.bias else { slice.initialize(repeating: 0, count: out); continue }
                let key = "\(part.prefix).bias"
                let found = try store.takeOptional(key, shape: [out]) { count in UnsafeMutableBufferPointer(start: slice, count: count) }
                guard found else { throw CheckpointError.missingWeight(key: key, file: store.file) }
            }
            b = values
        }
        outFeatures = rows
        inFeatures = inF
        inMajor = inF > rows
        if inMajor {
            let t = Param(uninitialized: [inF, rows])
            Self.transpose(stored.ptr, rows: rows, cols: inF, into: t.pointer)
            weight = t
        } else {
            weight = stored
        }
        bias = b
    }

    /// `dst[cols, rows] = srcᵀ` for `src[rows, cols]` (the C kernel's 8 x 8 register tiles: 3.6-3.9%
    /// of a ViT-B/16 `dump`'s CPU samples, against 8.4-8.8% for a 16 x 16-tiled Swift loop).
    static func transpose(_ src: UnsafePointer<Float>, rows: Int, cols: Int, into dst: UnsafeMutablePointer<Float>) {
        vitlens_transpose(src, rows, cols, dst)
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
