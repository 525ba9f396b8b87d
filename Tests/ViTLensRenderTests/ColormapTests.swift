import Foundation
import Testing
import ViTLensCore
import ViTLensTestSupport
@testable import ViTLensRender

@Suite("Colormap")
struct ColormapTests {
    /// Order of the maps in `colormap_rgba.npy` (see `meta.json`).
    static let order: [Colormap] = [.viridis, .inferno, .magma, .plasma, .cividis, .turbo, .jet, .gray]

    @Test func goldenOrderMatchesMeta() throws {
        let data = try Data(contentsOf: Fixtures.url("render/meta.json"))
        let meta = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(meta["maps"] as? [String] == Self.order.map(\.rawValue))
        #expect(meta["matplotlib"] as? String == Colormap.matplotlibVersion)
    }

    @Test(arguments: Array(order.enumerated()))
    func matchesMatplotlibBytes(_ entry: (offset: Int, element: Colormap)) throws {
        let xs = try NPY.read(Fixtures.url("render/colormap_x.npy"))
        let rgba = try NPY.read(Fixtures.url("render/colormap_rgba.npy"))
        #expect(xs.dtype == "<f4")
        #expect(rgba.shape == [Self.order.count, xs.shape[0], 4])
        let k = xs.shape[0]
        var mismatches: [String] = []
        for (i, x) in xs.floats.enumerated() {
            let got = entry.element.rgba(x)
            let o = (entry.offset * k + i) * 4
            let want = rgba.integers[o ..< o + 4].map { UInt8($0) }
            if [got.red, got.green, got.blue, got.alpha] != want {
                mismatches.append("x=\(x): got \([got.red, got.green, got.blue, got.alpha]) want \(want)")
            }
        }
        let count = mismatches.count
        #expect(count == 0, "\(entry.element): \(count) of \(k) differ, first: \(mismatches.prefix(5))")
    }

    @Test func indexRule() {
        #expect(Colormap.index(0) == 0)
        #expect(Colormap.index(-0.0) == 0)
        #expect(Colormap.index(1) == 255)
        #expect(Colormap.index(Float(1).nextUp) == 255)
        #expect(Colormap.index(Float(1).nextDown) == 255)
        #expect(Colormap.index(0.5) == 128)
        #expect(Colormap.index(Float(0.5).nextDown) == 127)
        #expect(Colormap.index(1.0 / 256) == 1)
        #expect(Colormap.index(Float(1.0 / 256).nextDown) == 0)
        #expect(Colormap.index(-5) == 0)
        #expect(Colormap.index(.infinity) == 255)
        #expect(Colormap.index(-.infinity) == 0)
        #expect(Colormap.index(.nan) == nil)
    }

    @Test func wellKnownEndColours() {
        #expect(Colormap.viridis.color(at: 0) == RGBColor(hex: 0x440154))
        #expect(Colormap.viridis.color(at: 255) == RGBColor(hex: 0xFDE724))
        #expect(Colormap.gray.color(at: 0) == .black)
        #expect(Colormap.gray.color(at: 255) == .white)
        #expect(Colormap.gray.color(at: 77) == RGBColor(77, 77, 77))
        for map in Colormap.allCases { #expect(map.table.count == 768, "\(map)") }
    }

    @Test func imageColoursEachValueAndNaNGetsBad() throws {
        let map = Tensor(shape: [2, 2], values: [0, 1, .nan, 2])
        let img = try Colormap.gray.image(map, bad: RGBColor(1, 2, 3))
        #expect(img.width == 2 && img.height == 2)
        #expect(img.pixels == [0, 0, 0, 255, 255, 255, 1, 2, 3, 255, 255, 255])
        #expect(throws: RenderError.self) { try Colormap.gray.image(Tensor(shape: [4], values: [0, 0, 0, 0])) }
    }

    @Test func paletteIsMatplotlibTab() {
        #expect(Palette.tab10.colors.count == 10)
        #expect(Palette.tab10.color(0) == RGBColor(hex: 0x1F77B4))
        #expect(Palette.tab10.color(11) == RGBColor(hex: 0xFF7F0E))
        #expect(Palette.tab20.colors.count == 20)
        let sixteen = Palette.forSeries(count: 16)
        #expect(sixteen.count == 16)
        #expect(Array(sixteen.prefix(10)) == Palette.tab10.colors)
        #expect(sixteen[10] == RGBColor(hex: 0xAEC7E8))
        #expect(Set(sixteen).count == 16)
    }
}
