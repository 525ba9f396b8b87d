import CViTLensKernels
import Foundation
import Testing
import ViTLensTestSupport
import ViTLensCheckpoint
import ViTLensCore
@testable import ViTLensModels

/// The kernels this CPU can run: BLAS always, the packed kernel with AVX-512 F.
let linearKernels: [LinearKernel] = vitlens_packed_available() == 1 ? [.blas, .packedAVX512] : [.blas]

/// A Linear layer against a double-precision reference, with and without a bias (added through a
/// `beta = 1` product onto the bias rows with BLAS, in the product with the packed kernel), in every
/// weight layout.
@Suite struct LinearTests {
    /// (rows, in, out): `in > out` is the BLAS layout transposed at load.
    @Test(arguments: [(7, 33, 20), (5, 40, 96), (197, 64, 16)])
    func outputMatchesReference(_ shape: (rows: Int, inF: Int, out: Int)) {
        let (rows, inF, out) = shape
        let w = seededValues(out * inF, seed: 1)
        let b = seededValues(out, seed: 2)
        let x = seededValues(rows * inF, seed: 3)
        for kernel in linearKernels {
          for bias in [true, false] {
            let layer = Linear(weight: w, bias: bias ? b : nil, out: out, in: inF, kernel: kernel)
            #expect(layer.layout == (kernel == .packedAVX512 ? .panels : inF > out ? .inMajor : .outMajor))
            var y = [Float](repeating: .nan, count: rows * out)
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { layer(xp.baseAddress!, rows: rows, into: $0.baseAddress!) }
            }
            var worst: Double = 0
            for r in 0 ..< rows {
                for o in 0 ..< out {
                    var ref = bias ? Double(b[o]) : 0
                    for i in 0 ..< inF { ref += Double(x[r * inF + i]) * Double(w[o * inF + i]) }
                    worst = max(worst, abs(Double(y[r * out + o]) - ref))
                }
            }
            #expect(worst < 1e-5, "\(kernel) rows \(rows) in \(inF) out \(out) bias \(bias): max abs error \(worst)")
          }
        }
    }

    /// `bench --gemm-peak`'s rate: a positive, finite GFLOP/s from every kernel this CPU runs, and no
    /// product (hence no rate) for an empty size.
    @Test func squareProductRateIsMeasuredForEveryKernel() {
        for kernel in linearKernels {
            let rate = kernel.squareProductGigaflops(size: 96, repeats: 1)
            #expect(rate > 0 && rate.isFinite, "\(kernel): \(rate)")
            #expect(kernel.squareProductGigaflops(size: 0, repeats: 1) == 0)
        }
    }
}

/// The packed kernel (`vitlens_linear`): every output is exactly the bias then one fused
/// multiply-add chain over the inputs in order, across row blocks (112), input blocks (768),
/// partial panels of outputs and the split over threads; the backward pass and weight rows read
/// from the panels equal the plain layout's.
@Suite(.enabled(if: vitlens_packed_available() == 1, "this CPU has no AVX-512 F: BLAS runs the Linear layers"))
struct PackedLinearTests {
    static func run(_ layer: Linear, _ x: [Float], rows: Int) -> [Float] {
        var y = [Float](repeating: .nan, count: rows * layer.outFeatures)
        x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { layer(xp.baseAddress!, rows: rows, into: $0.baseAddress!) } }
        return y
    }

    /// (rows, in, out).
    @Test(arguments: [(1, 3, 5), (13, 12, 40), (197, 100, 70), (250, 800, 33), (29, 1_600, 64), (300, 384, 1_152)])
    func everyOutputIsOneFusedChainInOrder(_ shape: (rows: Int, inF: Int, out: Int)) {
        let (rows, inF, out) = shape
        let w = seededValues(out * inF, seed: 21), b = seededValues(out, seed: 22), x = seededValues(rows * inF, seed: 23)
        for bias in [true, false] {
            let layer = Linear(weight: w, bias: bias ? b : nil, out: out, in: inF, kernel: .packedAVX512)
            #expect(layer.weight.shape == [(out + 31) / 32, inF, 32])
            let y = Self.run(layer, x, rows: rows)
            var wrong = 0
            for r in 0 ..< rows {
                for o in 0 ..< out {
                    var acc: Float = bias ? b[o] : 0
                    for i in 0 ..< inF { acc = acc.addingProduct(x[r * inF + i], w[o * inF + i]) }
                    if y[r * out + o].bitPattern != acc.bitPattern { wrong += 1 }
                }
            }
            #expect(wrong == 0, "rows \(rows) in \(inF) out \(out) bias \(bias): \(wrong) outputs differ from the chain")
        }
    }

    @Test func backwardAndWeightRowsMatchThePlainLayout() {
        let (rows, inF, out) = (9, 70, 45)
        let w = seededValues(out * inF, seed: 31), dY = seededValues(rows * out, seed: 32)
        let packed = Linear(weight: w, bias: nil, out: out, in: inF, kernel: .packedAVX512)
        let plain = Linear(weight: w, bias: nil, out: out, in: inF, kernel: .blas)
        for o in [0, 31, 32, 44] { #expect(packed.weightRow(o) == plain.weightRow(o)) }
        var a = [Float](repeating: .nan, count: rows * inF), b = a
        dY.withUnsafeBufferPointer { d in
            a.withUnsafeMutableBufferPointer { packed.backward(d.baseAddress!, rows: rows, into: $0.baseAddress!) }
            b.withUnsafeMutableBufferPointer { plain.backward(d.baseAddress!, rows: rows, into: $0.baseAddress!) }
        }
        var worst: Float = 0
        for i in 0 ..< a.count { worst = max(worst, abs(a[i] - b[i])) }
        #expect(worst < 1e-5, "max abs difference \(worst)")
    }

    @Test func scratchBuffersAreLentOneAtATimeAndKept() {
        let pool = LinearScratch()
        let a = pool.take(), b = pool.take()
        #expect(a !== b && a.count == vitlens_linear_scratch_count() && pool.keptCount == 0)
        pool.give(a)
        #expect(pool.keptCount == 1 && pool.take() === a && pool.keptCount == 0)
        // Repeated products through the shared pool give the same bits.
        let (rows, inF, out) = (197, 256, 256)
        let layer = Linear(weight: seededValues(out * inF, seed: 41), bias: nil, out: out, in: inF, kernel: .packedAVX512)
        let x = seededValues(rows * inF, seed: 42)
        let first = Self.run(layer, x, rows: rows)
        for _ in 0 ..< 3 { #expect(Self.run(layer, x, rows: rows) == first) }
    }
}

/// Linears read from a checkpoint: filled in place part by part, they hold exactly the weights the
/// array initialiser builds (stacked Q, K, V with a part without a bias; the `in > out` transpose).
@Suite struct LinearLoadingTests {
    static let (d, hidden) = (12, 40)
    static let tensors: [String: Tensor] = [
        "q.weight": Tensor(shape: [d, d], values: seededValues(d * d, seed: 11)), "q.bias": Tensor(shape: [d], values: seededValues(d, seed: 12)),
        "k.weight": Tensor(shape: [d, d], values: seededValues(d * d, seed: 13)),
        "v.weight": Tensor(shape: [d, d], values: seededValues(d * d, seed: 14)), "v.bias": Tensor(shape: [d], values: seededValues(d, seed: 15)),
        "fc2.weight": Tensor(shape: [d, hidden], values: seededValues(d * hidden, seed: 16)), "fc2.bias": Tensor(shape: [d], values: seededValues(d, seed: 17)),
    ]

    static func values(_ p: Param) -> [Float] { Array(UnsafeBufferPointer(start: p.ptr, count: p.count)) }

    static func store() throws -> (WeightStore, URL) {
        let dir = try temporaryFolder("linear-loading")
        let url = dir.appendingPathComponent("model.safetensors")
        try SafeTensorsWriter.write(tensors, to: url)
        return (WeightStore(archive: try SafeTensorsArchive(url: url)), dir)
    }

    @Test func stackedPartsFillTheirRowsAndMissingBiasesAreZeros() throws {
        let (store, dir) = try Self.store()
        defer { try? FileManager.default.removeItem(at: dir) }
        let d = Self.d
        let qkv = try Linear(stacking: [("q", true), ("k", false), ("v", true)], store, out: d, in: d)
        let t = Self.tensors
        let expected = Linear(weight: t["q.weight"]!.values + t["k.weight"]!.values + t["v.weight"]!.values,
                              bias: t["q.bias"]!.values + [Float](repeating: 0, count: d) + t["v.bias"]!.values, out: 3 * d, in: d)
        #expect(qkv.outFeatures == 3 * d && qkv.inFeatures == d && !qkv.inMajor)
        #expect(Self.values(qkv.weight) == Self.values(expected.weight))
        #expect(Self.values(qkv.bias!) == Self.values(expected.bias!))
        let noBias = try Linear(stacking: [("k", false), ("k", false)], store, out: d, in: d)
        #expect(noBias.bias == nil)
    }

    @Test func wideInputIsTransposedAtLoad() throws {
        let (store, dir) = try Self.store()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (d, h) = (Self.d, Self.hidden)
        let fc2 = try Linear(store, "fc2", out: d, in: h, kernel: .blas)
        #expect(fc2.inMajor && fc2.weight.shape == [h, d])
        let w = Self.tensors["fc2.weight"]!.values
        let stored = Self.values(fc2.weight)
        for o in 0 ..< d { for i in 0 ..< h { #expect(stored[i * d + o] == w[o * h + i]) } }
        #expect(Self.values(fc2.bias!) == Self.tensors["fc2.bias"]!.values)
    }

    @Test func absentWeightsAndBiasesNameTheirKey() throws {
        let (store, dir) = try Self.store()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("model.safetensors").path
        #expect(throws: CheckpointError.missingWeight(key: "fc1.weight", file: file)) { try Linear(store, "fc1", out: 4, in: 12) }
        #expect(throws: CheckpointError.missingWeight(key: "k.bias", file: file)) {
            try Linear(stacking: [("q", true), ("k", true)], store, out: Self.d, in: Self.d)
        }
        #expect(throws: CheckpointError.shapeMismatch(key: "q.weight", expected: [5, 12], found: [12, 12], file: file)) {
            try Linear(store, "q", out: 5, in: 12)
        }
    }

    /// The C transpose against the definition, over shapes with and without whole 8 x 8 tiles.
    @Test(arguments: [(1, 1), (1, 9), (9, 1), (7, 9), (8, 8), (16, 24), (13, 67), (768, 40), (40, 768)])
    func transposeMatchesTheDefinition(_ shape: (rows: Int, cols: Int)) {
        let src = seededValues(shape.rows * shape.cols, seed: 5)
        var dst = [Float](repeating: .nan, count: src.count)
        src.withUnsafeBufferPointer { s in
            dst.withUnsafeMutableBufferPointer { Linear.transpose(s.baseAddress!, rows: shape.rows, cols: shape.cols, into: $0.baseAddress!) }
        }
        var wrong = 0
        for r in 0 ..< shape.rows { for c in 0 ..< shape.cols where dst[c * shape.rows + r] != src[r * shape.cols + c] { wrong += 1 } }
        #expect(wrong == 0)
    }
}
