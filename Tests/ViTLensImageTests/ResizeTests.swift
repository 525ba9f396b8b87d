import Foundation
import Testing
import ViTLensCore
@testable import ViTLensImage
import ViTLensTestSupport

/// `PillowResize` against Pillow 13's `Image.resize` (max abs diff 0).
@Suite struct ResizeTests {
    /// Photo crops, noise, 1-pixel inputs and outputs, one-pass cases, every filter.
    @Test(arguments: ImageManifest.shared.resize)
    func matchesPillow(_ c: ImageManifest.ResizeCase) throws {
        var source = try ImageTestSupport.load(c.source)
        if let box = c.crop { source = ImageTestSupport.crop(source, box) }
        let filter = try #require(ResampleFilter(rawValue: c.filter_code))
        let out = PillowResize.resize(source, width: c.width, height: c.height, filter: filter)
        #expect([out.height, out.width, 3] == c.shape)
        if let full = c.full {
            try ImageTestSupport.expectEqual(out, ImageTestSupport.fixture("resize/" + full))
        } else if let rows = c.rows {
            try ImageTestSupport.expectDigest(out.pixels, rows: out.height, fnv: c.fnv1a64, rowsFile: rows, folder: "resize")
        } else {
            Issue.record("case \(c.name) has neither an array nor a digest")
        }
    }

    @Test func tableCoversEveryFilterAndShape() {
        let cases = ImageManifest.shared.resize
        #expect(Set(cases.map(\.filter_code)) == Set(0 ... 5))
        #expect(cases.contains { $0.width == 1 && $0.height == 1 })
        #expect(cases.contains { $0.crop?[2] == 1 && $0.crop?[3] == 1 })
        #expect(cases.count >= 60)
    }

    /// Fixed-point weights of each output sum to about 1.0 (`2^22`), as Pillow's do.
    @Test(arguments: [ResampleFilter.bilinear, .bicubic, .lanczos, .box, .hamming])
    func weightsAreNormalised(_ filter: ResampleFilter) {
        for (inSize, outSize) in [(600, 224), (37, 100), (5, 7), (1, 5), (300, 31)] {
            let taps = PillowResize.Taps(inSize: inSize, outSize: outSize, filter: filter)
            for o in 0 ..< outSize {
                let sum = (0 ..< taps.count[o]).reduce(0) { $0 + Int(taps.weights[o * taps.stride + $1]) }
                #expect(abs(sum - (1 << 22)) <= taps.count[o], "\(filter) \(inSize)->\(outSize) output \(o): \(sum)")
                #expect(taps.start[o] >= 0 && taps.start[o] + taps.count[o] <= inSize)
            }
        }
    }

    @Test func sameSizeIsACopy() throws {
        let image = try ImageTestSupport.load("photos/rocket.jpg")
        for filter in [ResampleFilter.nearest, .bicubic, .lanczos] {
            #expect(PillowResize.resize(image, width: image.width, height: image.height, filter: filter) == image)
        }
    }

    @Test func constantImageStaysConstant() {
        let image = RGBImage(width: 37, height: 23, pixels: [UInt8](repeating: 0, count: 37 * 23 * 3).enumerated().map { [200, 17, 90][$0.offset % 3] })
        for filter in [ResampleFilter.bilinear, .bicubic, .lanczos, .hamming, .box, .nearest] {
            let out = PillowResize.resize(image, width: 101, height: 9, filter: filter)
            #expect(out.pixels.enumerated().allSatisfy { $0.element == [200, 17, 90][$0.offset % 3] }, "\(filter)")
        }
    }

    /// The speed figure for the report: one 512x600 -> 224x224 bicubic resize (output checked too).
    @Test func speedOfPortraitToViTInput() throws {
        let image = try ImageTestSupport.load("photos/grace_hopper.jpg")
        let reference = try #require(ImageManifest.shared.resize.first { $0.name == "hopper_512x600_to_224x224_bicubic" })
        var best = Double.infinity
        var out = image
        for _ in 0 ..< 5 {
            let start = DispatchTime.now().uptimeNanoseconds
            out = PillowResize.resize(image, width: 224, height: 224, filter: .bicubic)
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        print("PillowResize 512x600 -> 224x224 bicubic: best of 5 = \(String(format: "%.2f", best)) ms")
        try ImageTestSupport.expectDigest(out.pixels, rows: 224, fnv: reference.fnv1a64, rowsFile: reference.rows ?? "", folder: "resize")
    }
}
