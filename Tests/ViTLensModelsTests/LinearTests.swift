import Testing
import ViTLensTestSupport
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
