import Testing
import ViTLensCore
@testable import ViTLensRender

@Suite("Overlay")
struct OverlayTests {
    /// A 2x2 photo with known pixels.
    let photo = RGBImage(width: 2, height: 2, pixels: [
        100, 100, 100, 0, 0, 0,
        255, 255, 255, 10, 20, 30,
    ])

    @Test func constantBlendRoundsHalfUp() throws {
        // gray: m = 0.2 -> index 51 -> (51, 51, 51); 0.5*100 + 0.5*51 = 75.5 -> 76.
        let map = Tensor(shape: [2, 2], values: [0.2, 1, 0, .nan])
        let out = try Overlay(colormap: .gray, blend: .constant(alpha: 0.5)).apply(map, on: photo)
        #expect(out.color(x: 0, y: 0) == RGBColor(76, 76, 76))
        #expect(out.color(x: 1, y: 0) == RGBColor(128, 128, 128))  // 0.5*0 + 0.5*255 = 127.5 -> 128
        #expect(out.color(x: 0, y: 1) == RGBColor(128, 128, 128))  // 0.5*255 + 0.5*0 = 127.5 -> 128
        #expect(out.color(x: 1, y: 1) == RGBColor(10, 20, 30))  // NaN leaves the photo
    }

    @Test func constantBlendWithViridis() throws {
        // viridis(1.0) = (253, 231, 36); 0.3 weight on (0, 0, 0): 75.9, 69.3, 10.8 -> 76, 69, 11.
        let map = Tensor(shape: [2, 2], values: [0, 1, 0, 0])
        let out = try Overlay(colormap: .viridis, blend: .constant(alpha: 0.3)).apply(map, on: photo)
        #expect(out.color(x: 1, y: 0) == RGBColor(76, 69, 11))
        // viridis(0) = (68, 1, 84) over (100, 100, 100): 0.7*100 + 0.3*(68, 1, 84) = 90.4, 70.3, 95.2.
        #expect(out.color(x: 0, y: 0) == RGBColor(90, 70, 95))
    }

    @Test func proportionalBlendUsesMapAsAlpha() throws {
        let map = Tensor(shape: [2, 2], values: [0, 1, 0.5, 2])
        let out = try Overlay(colormap: .gray, blend: .proportional(alpha: 0.8)).apply(map, on: photo)
        #expect(out.color(x: 0, y: 0) == RGBColor(100, 100, 100))  // m = 0: photo untouched
        #expect(out.color(x: 1, y: 0) == RGBColor(204, 204, 204))  // w = 0.8: 0.8 * 255 = 204
        #expect(out.color(x: 0, y: 1) == RGBColor(204, 204, 204))  // w = 0.4, C = 128: 0.6*255 + 0.4*128 = 204.2
        #expect(out.color(x: 1, y: 1) == RGBColor(206, 208, 210))  // m clamped to 1: w = 0.8, C = 255
    }

    @Test func sizeMismatchAndBadAlphaThrow() {
        #expect(throws: RenderError.self) { try Overlay().apply(Tensor(zeros: [3, 2]), on: photo) }
        #expect(throws: RenderError.self) { try Overlay(blend: .constant(alpha: 1.5)).apply(Tensor(zeros: [2, 2]), on: photo) }
    }

    @Test func renderNormalisesThenResizes() throws {
        let image = RGBImage(width: 4, height: 4, color: .black)
        let grid = Tensor(shape: [2, 2], values: [2, 4, 6, 10])
        let r = try Overlay(colormap: .gray, blend: .constant(alpha: 1)).render(grid, on: image, normalization: .minMax, upsampling: .nearest)
        #expect(r.low == 2 && r.high == 10)
        // min-max: 0, 0.25, 0.5, 1 -> indices 0, 64, 128, 255, each a 2x2 block.
        #expect(r.image.color(x: 0, y: 0) == .black)
        #expect(r.image.color(x: 3, y: 0) == RGBColor(64, 64, 64))
        #expect(r.image.color(x: 1, y: 3) == RGBColor(128, 128, 128))
        #expect(r.image.color(x: 3, y: 3) == .white)
    }
}
