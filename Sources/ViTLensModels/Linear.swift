import CViTLensKernels
import Foundation
import ViTLensCheckpoint
import ViTLensCore

/// The kernels that run the Linear layers' products in this process.
public enum LinearKernel: String, Sendable {
    /// ViTLens's own (Sources/CViTLensKernels, `vitlens_linear`): each weight packed once at load
    /// into panels of 32 output features, the bias added in the product, rows split over
    /// ``Compute/threads``.
    case packedAVX512 = "packed-avx512"
    /// BLAS sgemm onto rows pre-filled with the bias.
    case blas

    /// `packedAVX512` on CPUs with AVX-512 F unless the environment sets `VITLENS_LINEAR_KERNEL=blas`;
    /// else `blas`. Read once per process.
    public static let current: LinearKernel = {
        if ProcessInfo.processInfo.environment["VITLENS_LINEAR_KERNEL"]?.lowercased() == "blas" { return .blas }
        return vitlens_packed_available() == 1 ? .packedAVX512 : .blas
    }()
}

/// A Linear layer: `y = x Wᵀ + b` with the checkpoint's `weight [out, in]` and `bias [out]` (optional).
///
/// With ``LinearKernel/packedAVX512`` the weight is packed once at load into panels of 32 output
/// features (``Layout/panels``) and each output is the bias then one fused multiply-add chain over
/// the inputs in order. With BLAS it is kept as stored and used transposed by sgemm, except when
/// `in > out` (e.g. the MLP's down projection), where it is transposed once at load to `[in, out]`:
/// OpenBLAS runs that shape about 9% faster untransposed (measured here: 197x768x3072 in 4.70 vs 5.15 ms).
struct Linear {
    /// How `weight` holds `W [out, in]`.
    enum Layout: Equatable {
        /// `[out, in]`, as stored in the checkpoint (BLAS, used transposed).
        case outMajor
        /// `[in, out]`, transposed at load (BLAS, `in > out`).
        case inMajor
        /// `[ceil(out / 32), in, 32]`: panels of 32 output features, features past `out` zero
        /// (`vitlens_pack_rows`; the packed kernel).
        case panels
    }

    let weight: Param
    let bias: Param?
    let outFeatures: Int
    let inFeatures: Int
    let layout: Layout
    /// Whether `weight` holds `[in, out]` (transposed at load) rather than `[out, in]`.
    var inMajor: Bool { layout == .inMajor }
    /// The layer's parameters, `out * in` weights plus the bias (the panels' zero padding not counted).
    var parameterCount: Int { outFeatures * inFeatures + (bias?.count ?? 0) }

    /// The layout a weight of `out x in` gets with `kernel`.
    static func layout(out: Int, in inF: Int, kernel: LinearKernel) -> Layout {
        kernel == .packedAVX512 ? .panels : inF > out ? .inMajor : .outMajor
    }

    /// Reads `prefix.weight [out, in]` and (when `bias`) `prefix.bias [out]` straight from the
    /// checkpoint into the layer's own buffers, laid out for `kernel`: no intermediate arrays (a
    /// weight packed into panels or transposed at load goes through one buffer as stored).
    init(_ store: WeightStore, _ prefix: String, out: Int, in inF: Int, bias hasBias: Bool = true,
         kernel: LinearKernel = .current) throws {
        try self.init(store, parts: [(prefix, hasBias)], out: out, in: inF, kernel: kernel)
    }

    /// A layer from values in memory (`w` holds `[out, in]`), laid out for `kernel`.
    init(weight w: [Float], bias b: [Float]?, out: Int, in inF: Int, kernel: LinearKernel = .current) {
        outFeatures = out
        inFeatures = inF
        let layout = Self.layout(out: out, in: inF, kernel: kernel)
        self.layout = layout
        weight = w.withUnsafeBufferPointer { Self.arrange($0.baseAddress!, out: out, in: inF, layout: layout) } ?? Param(w, shape: [out, inF])
        bias = b.map { Param($0, shape: [out]) }
    }

    /// `w [out, in]` copied into a new parameter in `layout`, or nil for ``Layout/outMajor`` (the
    /// caller keeps `w` as it is).
    private static func arrange(_ w: UnsafePointer<Float>, out: Int, in inF: Int, layout: Layout) -> Param? {
        switch layout {
        case .outMajor:
            return nil
        case .inMajor:
            let t = Param(uninitialized: [inF, out])
            transpose(w, rows: out, cols: inF, into: t.pointer)
            return t
        case .panels:
            let panels = (out + 31) / 32
            let t = Param(uninitialized: [panels, inF, 32])
            vitlens_pack_rows(w, Int32(inF), Int32(out), Int32(inF), t.pointer)
            return t
        }
    }

    /// Several Linears over the same input stacked into one (`[sum(out), in]`), e.g. Q, K and V:
    /// one larger GEMM runs faster than three. A part without a bias (`bias: false`) gets zeros
    /// when another part has one; with no bias in any part the layer has none.
    init(stacking parts: [(prefix: String, bias: Bool)], _ store: WeightStore, out: Int, in inF: Int,
         kernel: LinearKernel = .current) throws {
        try self.init(store, parts: parts, out: out, in: inF, kernel: kernel)
    }

    /// Fills `[parts * out, in]` part by part from the checkpoint (each part's rows written in
    /// place); a part without a bias gets zeros when another part has one.
    private init(_ store: WeightStore, parts: [(prefix: String, bias: Bool)], out: Int, in inF: Int,
                 kernel: LinearKernel) throws {
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
        layout = Self.layout(out: rows, in: inF, kernel: kernel)
        weight = Self.arrange(stored.ptr, out: rows, in: inF, layout: layout) ?? stored
        bias = b
    }

    /// `dst[cols, rows] = srcᵀ` for `src[rows, cols]` (the C kernel's 8 x 8 register tiles: 3.6-3.9%
    /// of a ViT-B/16 `dump`'s CPU samples, against 8.4-8.8% for a 16 x 16-tiled Swift loop).
    static func transpose(_ src: UnsafePointer<Float>, rows: Int, cols: Int, into dst: UnsafeMutablePointer<Float>) {
        vitlens_transpose(src, rows, cols, dst)
    }

    /// `y[rows, out] = x[rows, in] · Wᵀ + b`; the product is profiled as `kind` (with the packed
    /// kernel the bias is part of it; with BLAS the bias fill is profiled as ``OpProfile/Kind/biasAdd``).
    ///
    /// Packed: the rows are split into at most ``Compute/threads`` blocks of equal size (99 + 98 at
    /// 197 tokens on 2 threads), one `vitlens_linear` call per block with its own scratch.
    /// BLAS: with a bias, `y` is first filled with it and the product is accumulated onto it
    /// (`beta = 1`): one write-only pass instead of BLAS zeroing `y` (its `beta = 0` pass) and a
    /// read-modify-write bias pass afterwards (measured at batch 8 on ViT-B/16: the bias pass alone
    /// was 1.8% of the forward).
    func callAsFunction(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, profile kind: OpProfile.Kind = .otherGEMM) {
        if layout == .panels {
            let t = OpProfile.start()
            packedProduct(x, rows: rows, into: y)
            OpProfile.stopGEMM(kind, t, m: rows, n: outFeatures, k: inFeatures)
            return
        }
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

    /// The packed kernel over `rows` rows: one block per thread when the product has at least
    /// 2^20 multiply-adds (smaller ones, e.g. a classifier on one token, run on the calling thread).
    private func packedProduct(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        guard rows > 0 else { return }
        let (n, k) = (outFeatures, inFeatures)
        let work = rows * n * max(1, k)
        let blocks = work < 1 << 20 ? 1 : min(Compute.threads, (rows + 13) / 14)
        let w = weight.ptr, b = bias?.ptr
        nonisolated(unsafe) let (xs, ys) = (x, y)
        Compute.forEachItem(blocks, workers: blocks) { _, block in
            let lo = rows * block / blocks, hi = rows * (block + 1) / blocks
            let scratch = LinearScratch.shared.take()
            vitlens_linear(Int32(hi - lo), Int32(n), Int32(k), xs + lo * k, Int32(k), w, b, ys + lo * n, Int32(n), scratch.pointer)
            LinearScratch.shared.give(scratch)
        }
    }
}

/// The packed Linear kernel's scratch buffers (`vitlens_linear_scratch_count()` floats each, 344 KB),
/// lent to one call at a time and kept for the next: concurrent forwards never share one, and the
/// hot loop allocates nothing once there are as many as concurrent calls.
final class LinearScratch: @unchecked Sendable {
    /// The pool the Linear layers use.
    static let shared = LinearScratch()

    private let lock = NSLock()
    private var free: [FloatStorage] = []

    /// A buffer for one call (a kept one, or a new one).
    func take() -> FloatStorage {
        lock.lock()
        let kept = free.popLast()
        lock.unlock()
        return kept ?? FloatStorage(count: max(1, vitlens_linear_scratch_count()))
    }

    /// Returns `buffer` for later calls.
    func give(_ buffer: FloatStorage) {
        lock.lock()
        free.append(buffer)
        lock.unlock()
    }

    /// Buffers kept now.
    var keptCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return free.count
    }
}
