import Foundation
import Testing
@testable import ViTLensImage
import ViTLensTestSupport

/// Each decoding failure gives the right case and a one-line message naming the file.
@Suite struct ErrorTests {
    @Test func missingFile() {
        let url = ImageTestSupport.fixture("errors/does_not_exist.jpg")
        #expect(throws: ImageError.fileNotFound(file: url.path)) { try ImageIO.load(url) }
        #expect(ImageError.fileNotFound(file: url.path).description == "\(url.path): no such file")
    }

    @Test func directoryIsNotAFile() {
        let url = ImageTestSupport.fixture("errors")
        #expect(throws: ImageError.unsupported(file: url.path, reason: "is a directory, not an image file")) { try ImageIO.load(url) }
    }

    /// The files Pillow refuses (the manifest records Pillow's own message for each).
    @Test(arguments: ImageManifest.shared.errors)
    func badFiles(_ c: ImageManifest.ErrorCase) throws {
        let url = ImageTestSupport.fixture("errors/" + c.file)
        let path = url.path
        #expect(c.pillow != "decoded", "Pillow refuses this file too")
        do {
            let image = try ImageIO.load(url)
            Issue.record("decoded a \(image.width) x \(image.height) image from \(c.file)")
        } catch let error as ImageError {
            switch (c.expected, error) {
            case ("notAnImage", .notAnImage(let f)):
                #expect(f == path)
                #expect(error.description == "\(path): not an image (expected JPEG or PNG)")
            case ("truncated", .truncated(let f)):
                #expect(f == path)
                #expect(error.description == "\(path): truncated image data (the file ends before the image does)")
            case ("corrupt", .corrupt(let f, let reason)), ("unsupported", .unsupported(let f, let reason)):
                // The reason is the decoder's own message, prefixed with the format.
                #expect(f == path)
                #expect(reason.hasPrefix(c.file.hasSuffix(".png") ? "PNG: " : "JPEG: "), "\(reason)")
            default:
                Issue.record("expected \(c.expected), got \(error)")
            }
            #expect(error.description.hasPrefix(path + ": "))
            #expect(!error.description.contains("\n"))
        }
    }

    @Test func exactMessages() {
        let f = "dir/a.png"
        #expect(ImageError.notAnImage(file: f).description == "dir/a.png: not an image (expected JPEG or PNG)")
        #expect(ImageError.truncated(file: f).description
            == "dir/a.png: truncated image data (the file ends before the image does)")
        #expect(ImageError.corrupt(file: f, reason: "PNG: IHDR: CRC error").description == "dir/a.png: corrupt: PNG: IHDR: CRC error")
        #expect(ImageError.unsupported(file: f, reason: "x").description == "dir/a.png: unsupported: x")
        #expect(ImageError.writeFailed(file: f, reason: "No such file or directory").description
            == "dir/a.png: cannot write: No such file or directory")
    }

    @Test func emptyAndTinyData() {
        #expect(throws: ImageError.notAnImage(file: "e")) { try ImageIO.decode(Data(), file: "e") }
        #expect(throws: ImageError.truncated(file: "j")) { try ImageIO.decode(Data([0xFF, 0xD8, 0xFF]), file: "j") }
        #expect(throws: ImageError.truncated(file: "j")) { try ImageIO.decode(Data([0xFF, 0xD8, 0xFF, 0xE0, 0x00]), file: "j") }
    }

    /// Every prefix of a small JPEG and PNG is `.truncated`, except PNG cuts that only drop the final
    /// IEND chunk: those may decode, and then to the full image. (Pillow calls a JPEG without its
    /// EOI marker truncated.)
    @Test func everyPrefixIsTruncated() throws {
        for name in ["decode/jpeg420.jpg", "decode/jpeg420_progressive.jpg", "decode/rgb8.png", "decode/palette4.png"] {
            let data = try Data(contentsOf: ImageTestSupport.fixture(name))
            let whole = try ImageIO.decode(data, file: name)
            let isPNG = name.hasSuffix(".png")
            let tail = isPNG ? 12 : 0
            for length in Array(stride(from: isPNG ? 8 : 3, to: data.count, by: 5)) + [data.count - 1] {
                do {
                    let image = try ImageIO.decode(data.prefix(length), file: name)
                    #expect(length >= data.count - tail && image == whole,
                            "\(name) cut at \(length) of \(data.count) bytes decoded")
                } catch let error as ImageError {
                    #expect(error == .truncated(file: name), "\(name) cut at \(length): \(error)")
                }
            }
        }
    }
}
