import Foundation
import Testing
import ViTLens

/// The batch rules of the library: subfolder names, failure lines and `failures.csv`.
@Suite("Image batch")
struct ImageBatchTests {
    @Test func folderNamesDropTheExtensionAndResolveClashes() {
        #expect(ImageBatch.folderNames(for: ["photos/cat.jpg", "dog.png"]) == ["cat", "dog"])
        // Same stem: the whole base name with '.' -> '_'; the same file name twice: -2.
        #expect(ImageBatch.folderNames(for: ["a/cat.jpg", "cat.png", "b/cat.jpg", "dog.jpg"]) == ["cat_jpg", "cat_png", "cat_jpg-2", "dog"])
        // Case-insensitive clashes (macOS file systems), hidden names, the reserved failures.csv.
        #expect(ImageBatch.folderNames(for: ["Cat.JPG", "cat.png"]) == ["Cat_JPG", "cat_png"])
        #expect(ImageBatch.folderNames(for: [".hidden.jpg", "failures.csv.png", "x.tar.gz"]) == ["_hidden", "failures_csv_png", "x.tar"])
        // A generated name that another file already has as its plain name.
        #expect(ImageBatch.folderNames(for: ["cat_jpg.png", "cat.jpg", "cat.png"]) == ["cat_jpg", "cat_jpg-2", "cat_png"])
    }

    @Test func failuresDropTheFileFromTheReasonAndQuoteTheCSV() {
        struct Problem: Error, CustomStringConvertible { var description: String }
        let f = ImageBatch.Failure(file: "photos/x.jpg", error: Problem(description: "photos/x.jpg: truncated image data\n(second line)"))
        #expect(f.reason == "truncated image data (second line)")
        #expect(f.line == "photos/x.jpg: truncated image data (second line)")
        let g = ImageBatch.Failure(file: "a,b.jpg", error: Problem(description: "needs \"more\", says x"))
        let csv = String(decoding: ImageBatch.failuresCSV([f, g]), as: UTF8.self)
        #expect(csv == "file,reason\nphotos/x.jpg,truncated image data (second line)\n\"a,b.jpg\",\"needs \"\"more\"\", says x\"\n")
        #expect(ImageBatch.report([f], of: 3) == ["1 of 3 images failed:", "  photos/x.jpg: truncated image data (second line)"])
        #expect(ImageBatch.report([], of: 3).isEmpty)
    }

    @Test func optionErrorsStopTheBatchAndImageErrorsDoNot() throws {
        #expect(ImageBatch.stopsBatch(SessionError.layerOutOfRange(option: "--layer", layer: 9, layers: 2)))
        #expect(ImageBatch.stopsBatch(AnalysisError.headOutOfRange(head: 7, heads: 2)))
        #expect(!ImageBatch.stopsBatch(AnalysisError.nonFinite(what: "map", index: 0, value: "NaN")))
        struct Decode: Error {}
        #expect(!ImageBatch.stopsBatch(Decode()))
        let batch = ImageBatch(files: ["a", "b", "c"])
        var seen: [Int] = []
        let failures = try batch.run { i, _ in
            seen.append(i)
            if i == 1 { throw Decode() }
        }
        #expect(seen == [0, 1, 2] && failures.map(\.file) == ["b"])
        #expect(throws: SessionError.self) {
            try batch.run { _, _ in throw SessionError.layerOutOfRange(option: "--layer", layer: 9, layers: 2) }
        }
    }
}
