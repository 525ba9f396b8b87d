import Foundation
import Testing
import ViTLensCore
@testable import ViTLensImage
import ViTLensTestSupport

/// `ImageProcessor` against transformers 5.23's PIL-backend processors.
@Suite struct ProcessorTests {
    static func processor(_ config: String) throws -> ImageProcessor {
        try ImageProcessor(contentsOf: ImageTestSupport.fixture("processors/" + config))
    }

    /// ViT, DINOv2 (Bit), CLIP, DeiT, DINO-style ViT and an untyped config on the three photos:
    /// the uint8 stage exact (digest), `pixel_values` exact (digest) and within 1e-6 of HF's own
    /// per-level normalisation (every element).
    @Test(arguments: ImageManifest.shared.processors.photos)
    func photos(_ c: ImageManifest.ProcessorPhotoCase) throws {
        let processor = try Self.processor(c.config)
        let image = try ImageTestSupport.load(c.photo)
        let prepared = processor.prepare(image)
        #expect([prepared.height, prepared.width, 3] == c.prepared.shape)
        try ImageTestSupport.expectDigest(prepared.pixels, rows: prepared.height, fnv: c.prepared.fnv1a64,
                                          rowsFile: c.prepared.rows ?? "", folder: "processors")
        let pixels = processor.pixelValues(image)
        #expect(pixels.shape == c.pixel_values.shape)
        // Every element against HF's normalisation of its byte value.
        let levels = try NPY.read(ImageTestSupport.fixture("processors/" + c.levels)).floats
        let plane = prepared.width * prepared.height
        var maxDiff: Float = 0
        for ch in 0 ..< 3 {
            for i in 0 ..< plane {
                let expected = levels[ch * 256 + Int(prepared.pixels[3 * i + ch])]
                maxDiff = max(maxDiff, abs(pixels.values[ch * plane + i] - expected))
            }
        }
        #expect(maxDiff <= 1e-6, "max abs diff \(maxDiff)")
        let sum = pixels.values.reduce(0.0) { $0 + Double($1) }
        #expect(abs(sum - c.pixel_values.sum) <= 1e-6 * Double(pixels.count), "sum \(sum) vs \(c.pixel_values.sum)")
        #expect(pixels.values.min() == Float(c.pixel_values.min))
        #expect(pixels.values.max() == Float(c.pixel_values.max))
        #expect(ImageTestSupport.fnv1a64(floats: pixels.values) == c.pixel_values.fnv1a64, "bit-identical pixel_values")
    }

    /// Small crops through whole pipelines, compared in full: crop rounding, zero padding when the
    /// image is smaller than the crop, shortest/longest-edge rules, disabled steps, `size` override.
    @Test(arguments: ImageManifest.shared.processors.crops)
    func crops(_ c: ImageManifest.ProcessorCropCase) throws {
        let processor = try Self.processor(c.config)
        let image = ImageTestSupport.crop(try ImageTestSupport.load(c.photo), c.crop)
        let size = c.size_override.map { (height: $0.height, width: $0.width) }
        let prepared = processor.prepare(image, size: size)
        try ImageTestSupport.expectEqual(prepared, ImageTestSupport.fixture("processors/" + c.prepared))
        let expected = try NPY.read(ImageTestSupport.fixture("processors/" + c.pixel_values))
        let pixels = processor.pixelValues(image, size: size)
        #expect(pixels.shape == expected.shape)
        guard pixels.shape == expected.shape else { return }
        var maxDiff: Float = 0, worst = 0
        for i in 0 ..< pixels.count where abs(pixels.values[i] - expected.floats[i]) > maxDiff {
            maxDiff = abs(pixels.values[i] - expected.floats[i])
            worst = i
        }
        #expect(maxDiff <= 1e-6, "max abs diff \(maxDiff) at flat index \(worst): \(pixels.values[worst]) vs \(expected.floats[worst])")
        #expect(pixels.values == expected.floats, "bit-identical pixel_values")
    }

    /// The `size` override resizes straight to the size, skipping the crop, with the config's filter.
    @Test func sizeOverrideSkipsCrop() throws {
        let processor = try Self.processor("configs/dinov2.json")
        let image = try ImageTestSupport.load("photos/grace_hopper.jpg")
        let prepared = processor.prepare(image, size: (height: 98, width: 70))
        #expect(prepared == PillowResize.resize(image, width: 70, height: 98, filter: .bicubic))
        #expect(processor.pixelValues(image, size: (height: 98, width: 70)).shape == [3, 98, 70])
        #expect(processor.pixelValues(image).shape == [3, 224, 224])
    }

    @Test func normalizeIsTheSecondHalf() throws {
        let processor = try Self.processor("configs/clip.json")
        let image = try ImageTestSupport.load("photos/rocket.jpg")
        #expect(processor.normalize(processor.prepare(image)) == processor.pixelValues(image))
    }

    /// HF's output-size rules, worked examples.
    @Test func resizeTargets() {
        typealias P = ImageProcessor
        #expect(P.resizeTarget(height: 600, width: 512, size: .shortestEdge(256)) == (300, 256))
        #expect(P.resizeTarget(height: 427, width: 640, size: .shortestEdge(256)) == (256, 383))  // int(383.7)
        #expect(P.resizeTarget(height: 427, width: 640, size: .shortestEdge(224)) == (224, 335))
        #expect(P.resizeTarget(height: 512, width: 512, size: .shortestEdge(224)) == (224, 224))
        #expect(P.resizeTarget(height: 10, width: 30, size: .exact(height: 5, width: 7)) == (5, 7))
        // longest edge caps: 40 x 160 at shortest 40 would be 160 long > 50: raw = 12.5 -> round half even = 12.
        #expect(P.resizeTarget(height: 40, width: 160, size: .shortestEdgeCapped(shortestEdge: 40, longestEdge: 50)) == (12, 50))
    }

    /// HF's NumPy center crop: floor offsets; zero padding with the extra row/column on top/left.
    @Test func centerCropRounding() {
        // 4 wide x 5 high, value = 10 * y + x + 1 in every channel (never 0, so padding shows).
        var pixels = [UInt8]()
        for y in 0 ..< 5 {
            for x in 0 ..< 4 {
                let v = UInt8(10 * y + x + 1)
                pixels += [v, v, v]
            }
        }
        let image = RGBImage(width: 4, height: 5, pixels: pixels)
        // Crop 2 x 2: top = (5 - 2) // 2 = 1, left = (4 - 2) // 2 = 1.
        let small = ImageProcessor.centerCrop(image, height: 2, width: 2)
        #expect([small[0, 0].0, small[1, 0].0, small[0, 1].0, small[1, 1].0] == [12, 13, 22, 23])
        // Crop 3 high x 7 wide: rows from top = 1; columns padded, ceil((7 - 4) / 2) = 2 zeros on the left, 1 on the right.
        let wide = ImageProcessor.centerCrop(image, height: 3, width: 7)
        #expect((0 ..< 7).map { wide[$0, 0].0 } == [0, 0, 11, 12, 13, 14, 0])
        #expect((0 ..< 7).map { wide[$0, 2].0 } == [0, 0, 31, 32, 33, 34, 0])
        // Crop 8 high x 4 wide: 2 rows of zeros on top, 1 below.
        let tall = ImageProcessor.centerCrop(image, height: 8, width: 4)
        #expect((0 ..< 8).map { tall[0, $0].0 } == [0, 0, 1, 11, 21, 31, 41, 0])
    }
}
