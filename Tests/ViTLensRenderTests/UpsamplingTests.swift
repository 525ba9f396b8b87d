import Foundation
import Testing
import ViTLensCore
import ViTLensTestSupport
@testable import ViTLensRender

@Suite("Upsampling")
struct UpsamplingTests {
    @Test func nearestRepeatsPatches() throws {
        let grid = Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        let up = try Upsampling.nearest.apply(grid, height: 4, width: 6)
        #expect(up.shape == [4, 6])
        #expect(up.values == [
            1, 1, 2, 2, 3, 3,
            1, 1, 2, 2, 3, 3,
            4, 4, 5, 5, 6, 6,
            4, 4, 5, 5, 6, 6,
        ])
    }

    /// Centre sampling: out 5 from in 2 takes floor((d + 0.5) * 2 / 5) = 0, 0, 1, 1, 1.
    @Test func nearestNonIntegerFactorUsesCentres() throws {
        let up = try Upsampling.nearest.apply(Tensor(shape: [1, 2], values: [7, 9]), height: 1, width: 5)
        #expect(up.values == [7, 7, 9, 9, 9])
        let down = try Upsampling.nearest.apply(Tensor(shape: [1, 4], values: [1, 2, 3, 4]), height: 1, width: 2)
        #expect(down.values == [2, 4])
    }

    /// By hand: [0, 1] to width 4 samples at -0.25 (clamped to 0), 0.25, 0.75, 1.25 (upper tap clamped).
    @Test func bilinearByHand() throws {
        let up = try Upsampling.bilinear.apply(Tensor(shape: [1, 2], values: [0, 1]), height: 1, width: 4)
        #expect(up.values == [0, 0.25, 0.75, 1])
        let sq = try Upsampling.bilinear.apply(Tensor(shape: [2, 2], values: [0, 1, 2, 3]), height: 4, width: 4)
        #expect(sq.values[0] == 0 && sq.values[15] == 3)
        // (1, 1) samples (0.25, 0.25): 0.75*0.25*1 + 0.25*0.75*2 + 0.25*0.25*3 = 0.75.
        #expect(sq.values[5] == 0.75)
    }

    struct Golden: Decodable {
        struct Case: Decodable {
            var input_shape: [Int]
            var input: [Float]
            var output_shape: [Int]
            var output: [Float]
        }
        var cases: [Case]
    }

    @Test func bilinearMatchesTorchAlignCornersFalse() throws {
        let golden = try JSONDecoder().decode(Golden.self, from: Data(contentsOf: Fixtures.url("render/bilinear.json")))
        #expect(golden.cases.count == 6)
        for c in golden.cases {
            let out = try Upsampling.bilinear.apply(
                Tensor(shape: c.input_shape, values: c.input), height: c.output_shape[0], width: c.output_shape[1])
            #expect(out.shape == c.output_shape)
            let worst = zip(out.values, c.output).map { abs($0 - $1) }.max() ?? 0
            #expect(worst <= 1e-6, "\(c.input_shape) -> \(c.output_shape): max |diff| \(worst)")
        }
    }

    @Test func rejectsBadShapes() {
        #expect(throws: RenderError.self) { try Upsampling.nearest.apply(Tensor(shape: [4], values: [1, 2, 3, 4]), height: 2, width: 2) }
        #expect(throws: RenderError.self) { try Upsampling.bilinear.apply(Tensor(shape: [1, 1], values: [1]), height: 0, width: 2) }
        #expect(throws: RenderError.self) { try Upsampling.bilinear.apply(Tensor(shape: [0, 3], values: []), height: 2, width: 2) }
    }
}
