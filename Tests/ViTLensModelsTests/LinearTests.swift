import Foundation
import Testing
import ViTLensTestSupport
import ViTLensCheckpoint
import ViTLensCore
@testable import ViTLensModels

/// A Linear layer against a double-precision reference, with and without a bias (added through a
/// `beta = 1` product onto the bias rows), in both weight layouts.
@Suite struct LinearTests {
    /// (rows, in, out): `in > out` is the layout transposed at load.
    @Test(arguments: [(7, 33, 20), (5, 40, 96), (197, 64, 16)])
    func outputMatchesReference(_ shape: (rows: Int, inF: Int, out: Int)) {
        let (rows, inF, out) = shape
        let w = seededValues(out * inF, seed: 1)
        let b = seededValues(out, seed: 2)
        let x = seededValues(rows * inF, seed: 3)
        for bias in [true, false] {
            let layer = Linear(weight: w, bias: bias ? b : nil, out: out, in: inF)
            #expect(layer.inMajor == (inF > out))
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
            #expect(worst < 1e-5, "rows \(rows) in \(inF) out \(out) bias \(bias): max abs error \(worst)")
        }
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
        let fc2 = try Linear(store, "fc2", out: d, in: h)
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
