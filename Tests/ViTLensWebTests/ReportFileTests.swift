import Foundation
import Testing
import ViTLens
import ViTLensTestSupport
@testable import ViTLensWeb

/// Writing the report file: never over a file ViTLens did not write, atomically over an earlier report.
@Suite struct ReportFileTests {
    func page(_ tag: String) -> String {
        var report = Report()
        report.sections = [.failure(ReportFailure(input: tag, reason: "\(tag): test"))]
        return ReportHTML.render(report)
    }

    func entries(_ dir: URL) throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() }

    @Test func foreignFileIsRefusedAndKept() throws {
        let dir = try temporaryFolder("report-file")
        defer { try? FileManager.default.removeItem(at: dir) }
        let target = dir.appendingPathComponent("thesis.html")
        try Data("<!DOCTYPE html><html><head><title>my thesis</title></head></html>".utf8).write(to: target)
        #expect {
            try ReportFile.write(page("a"), to: target.path)
        } throws: { error in
            "\(error)" == "\(target.path): exists and is not a ViTLens report (no generator marker); ViTLens does not overwrite files it did not write: choose another name"
        }
        #expect(try String(contentsOf: target, encoding: .utf8).contains("my thesis"))
        #expect(try entries(dir) == ["thesis.html"])
    }

    @Test func earlierReportIsReplacedAtomically() throws {
        let dir = try temporaryFolder("report-file")
        defer { try? FileManager.default.removeItem(at: dir) }
        let target = dir.appendingPathComponent("report.html")
        try ReportFile.write(page("first"), to: target.path)
        let before = try FileManager.default.attributesOfItem(atPath: target.path)[.systemFileNumber] as? Int
        try ReportFile.write(page("second"), to: target.path)
        let after = try FileManager.default.attributesOfItem(atPath: target.path)[.systemFileNumber] as? Int
        let text = try String(contentsOf: target, encoding: .utf8)
        #expect(text.contains("second: test") && !text.contains("first: test"))
        // A rename of a new file, not a rewrite in place: the inode changed and no temporary file is left.
        #expect(before != nil && before != after)
        #expect(try entries(dir) == ["report.html"])
    }

    @Test func folderSymlinkAndMissingFolderAreRefused() throws {
        let dir = try temporaryFolder("report-file")
        defer { try? FileManager.default.removeItem(at: dir) }
        let folder = dir.appendingPathComponent("out.html")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false)
        let report = dir.appendingPathComponent("real.html")
        try ReportFile.write(page("real"), to: report.path)
        let link = dir.appendingPathComponent("link.html")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: report)
        let cases: [(String, String)] = [
            (folder.path, "is a folder"), (link.path, "is a symbolic link"),
            (dir.appendingPathComponent("missing/r.html").path, "does not exist"), ("", "the output path is empty"),
        ]
        for (path, problem) in cases {
            #expect {
                try ReportFile.write(page("x"), to: path)
            } throws: { error in
                let line = "\(error)"
                return line.contains(problem) && !line.contains("\n") && (path.isEmpty || line.hasPrefix(path))
            }
        }
        #expect(try entries(dir) == ["link.html", "out.html", "real.html"])
        #expect(try String(contentsOf: report, encoding: .utf8).contains("real: test"))
    }

    @Test func sha256OfFiles() throws {
        let dir = try temporaryFolder("report-sha")
        defer { try? FileManager.default.removeItem(at: dir) }
        let abc = dir.appendingPathComponent("abc")
        try Data("abc".utf8).write(to: abc)
        #expect(try FileDigest.sha256(of: abc) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        // 5 MiB + 3 bytes of 'a': crosses the 4 MiB read chunk.
        let big = dir.appendingPathComponent("big")
        try Data(repeating: 0x61, count: (5 << 20) + 3).write(to: big)
        #expect(try FileDigest.sha256(of: big) == "1d31b529ae70d74a20efc4df269f362578e974655e2f42c9a57795e035c7b8cf")
        #expect(throws: CheckpointError.self) { try FileDigest.sha256(of: dir.appendingPathComponent("none")) }
    }

    @Test func modelCardNamesTheWeights() throws {
        let (image, text) = try ReportFixture.sessions()
        let card = try ModelCard(image)
        #expect(card.kind == "image" && card.modelType == "vit" && card.layers == 2 && card.heads == 2 && card.patchSize == 16)
        #expect(card.prefix == ["cls"] && card.classes == 5 && card.weightsFile == "model.safetensors")
        #expect(card.weightsSHA256.count == 64 && card.weightsSHA256.allSatisfy(\.isHexDigit))
        #expect(try ModelCard(text).kind == "text")
        let html = ReportHTML.render(try ReportFixture.report())
        #expect(html.contains("title=\"\(card.weightsSHA256)\">\(card.weightsSHA256.prefix(16))…</code>"))
    }
}
