import Foundation
import Testing
import ViTLensCore
@testable import ViTLensImage
import ViTLensTestSupport

/// Decoding parity with Pillow's `Image.open(f).convert("RGB")`.
@Suite struct DecodeTests {
    @Test func manifestIsCurrent() {
        #expect(ImageManifest.shared.format_version == ImageManifest.formatVersion,
                "Tests/Fixtures/images is missing or stale: re-run `python tools/make_image_fixtures.py`")
        #expect(ImageManifest.shared.decode.cases.count >= 30)
    }

    /// Every PNG colour type and bit depth, and JPEGs in every subsampling, byte for byte.
    @Test(arguments: ImageManifest.shared.decode.cases)
    func smallFilesMatchPillow(_ c: ImageManifest.DecodeCase) throws {
        let image = try ImageIO.load(ImageTestSupport.fixture("decode/" + c.file))
        try ImageTestSupport.expectEqual(image, ImageTestSupport.fixture("decode/" + c.expected))
    }

    /// The committed photos (two JPEGs and a PNG), every pixel compared through a digest.
    @Test(arguments: ImageManifest.shared.decode.photos)
    func photosMatchPillow(_ c: ImageManifest.PhotoCase) throws {
        let image = try ImageTestSupport.load(c.photo)
        #expect([image.height, image.width, 3] == c.shape)
        try ImageTestSupport.expectDigest(image.pixels, rows: image.height, fnv: c.fnv1a64, rowsFile: c.rows, folder: "decode")
    }

    /// Facts the fixtures encode, spelled out: 16-bit gray clips, 16-bit RGB keeps the high byte.
    @Test func sixteenBitRules() throws {
        let gray = try ImageIO.load(ImageTestSupport.fixture("decode/gray16.png"))
        // The generator put 0, 255, 256, 65535 at the start of row 0.
        #expect(gray[0, 0] == (0, 0, 0))
        #expect(gray[1, 0] == (255, 255, 255))
        #expect(gray[2, 0] == (255, 255, 255))
        #expect(gray[3, 0] == (255, 255, 255))
        let small = try ImageIO.load(ImageTestSupport.fixture("decode/gray16_small.png"))
        #expect(small.pixels.contains { $0 != 0 && $0 != 255 }, "values below 256 pass through unclipped")
    }

    @Test func decodeFromMemoryEqualsLoad() throws {
        let url = ImageTestSupport.fixture("decode/jpeg420.jpg")
        let data = try Data(contentsOf: url)
        #expect(try ImageIO.decode(data, file: "x.jpg") == ImageIO.load(url))
    }

    @Test func pngRoundTrip() throws {
        let photo = try ImageTestSupport.load("photos/rocket.jpg")
        let image = ImageTestSupport.crop(photo, [100, 50, 123, 77])
        let data = try ImageIO.encodePNG(image)
        #expect(Array(data.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        #expect(try ImageIO.decode(data, file: "memory.png") == image)
    }

    @Test func writePNGIsAtomicAndReadable() throws {
        let folder = try temporaryFolder("image")
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("out.png")
        let image = RGBImage(width: 3, height: 2, pixels: [0, 1, 2, 3, 4, 5, 250, 251, 252, 9, 8, 7, 128, 0, 255, 1, 1, 1])
        try ImageIO.writePNG(image, to: url)
        try ImageIO.writePNG(image, to: url)  // replaces the existing file
        #expect(try ImageIO.load(url) == image)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        #expect(leftovers == ["out.png"], "no temporary files left behind")
    }

    @Test func writeIntoMissingFolderFails() {
        let url = URL(fileURLWithPath: "/nonexistent-vitlens-folder/out.png")
        let image = RGBImage(width: 1, height: 1, pixels: [1, 2, 3])
        #expect(throws: ImageError.self) { try ImageIO.writePNG(image, to: url) }
        do {
            try ImageIO.writePNG(image, to: url)
        } catch let error as ImageError {
            guard case .writeFailed(let file, _) = error else {
                Issue.record("expected writeFailed, got \(error)")
                return
            }
            #expect(file == url.path)
            #expect(error.description.hasPrefix("\(url.path): cannot write: "))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }
}
