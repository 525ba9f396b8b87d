import Foundation
import Testing
import ViTLens
import ViTLensTestSupport

/// `vitlens report`: one HTML file, failures listed at the end with exit status 1, model mismatches refused.
@Suite(.serialized) struct ReportCommandTests {
    let vit = Fixtures.url("models/vit-p16-cls").path
    let bert = Fixtures.url("models/bert-tiny").path
    let rocket = Fixtures.repositoryRoot.appendingPathComponent("photos/rocket.jpg").path
    let astronaut = Fixtures.repositoryRoot.appendingPathComponent("photos/astronaut.png").path

    @Test func imagesAndSentenceMakeOneFile() throws {
        let dir = CLI.temporaryDirectory("report")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("report.html")
        let r = try CLI.run(["report", rocket, astronaut, "--text", "The cat sat.", "--model", vit, "--model", bert, "-o", out.path])
        #expect(r.status == 0, "\(r.stderr)")
        // Not a terminal: the progress bar writes one plain line per finished input, with the time and ETA.
        let lines = r.errorLines
        #expect(lines.count == 3, "\(lines)")
        for (i, name) in [rocket, astronaut, "\"The cat sat.\""].enumerated() where i < lines.count {
            #expect(lines[i].hasPrefix("[\(i + 1)/3] \(name) (") && (lines[i].contains("ETA") || i == 2), "\(lines[i])")
        }
        #expect(r.stdout.hasPrefix("wrote \(out.path) (") && r.stdout.hasSuffix("MB): 3 of 3 inputs analysed\n"), "\(r.stdout)")
        let html = try String(contentsOf: out, encoding: .utf8)
        #expect(html.contains("<meta name=\"generator\" content=\"ViTLens \(ViTLensVersion.current)\">"))
        #expect(html.contains("id=\"img-2\"") && html.contains("id=\"text-1\"") && !html.contains("failed-1"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["report.html"])
        // Run again: the earlier report is replaced, quietly.
        let again = try CLI.run(["report", rocket, "--model", vit, "-o", out.path, "--quiet"])
        #expect(again.status == 0 && again.stdout.isEmpty && again.stderr.isEmpty, "\(again.stderr)")
        #expect(!(try String(contentsOf: out, encoding: .utf8)).contains("id=\"img-2\""))
    }

    @Test func aFailingImageIsListedAndGivesStatusOne() throws {
        let dir = CLI.temporaryDirectory("report")
        defer { try? FileManager.default.removeItem(at: dir) }
        let broken = dir.appendingPathComponent("broken.png")
        try Data([0x89, 0x50, 0x4E, 0x47, 0, 1, 2]).write(to: broken)
        let out = dir.appendingPathComponent("r.html")
        let r = try CLI.run(["report", broken.path, rocket, "--model", vit, "-o", out.path])
        #expect(r.status == 1)
        let failures = r.errorLines.filter { $0.hasPrefix("vitlens: ") }
        #expect(failures.count == 1 && failures[0].hasPrefix("vitlens: \(broken.path): "), "\(r.stderr)")
        #expect(r.errorLines.last == failures.first)
        let html = try String(contentsOf: out, encoding: .utf8)
        #expect(html.contains("id=\"failed-1\"") && html.contains("id=\"img-1\""))
    }

    @Test func modelMismatchesAreOneLineErrors() throws {
        let dir = CLI.temporaryDirectory("report")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("r.html").path
        let cases: [([String], String)] = [
            (["report", rocket, "--model", bert, "-o", out], "IMAGE needs an image model; --model \(bert) is a text model"),
            (["report", "--text", "hi", "--model", vit, "-o", out], "--text needs a text model (BERT family); --model \(vit) is an image model"),
            (["report", rocket, "--model", vit, "--model", vit, "-o", out], "are both image models"),
            (["report", rocket, "--model", vit, "--model", bert, "-o", out], "is a text model but no --text was given"),
            (["report", rocket, "-o", out], "--model is required"),
            (["report", rocket, "--model", vit, "--explain-target", "top2", "-o", out], "--explain-target top2: use one of top1, class:N"),
            (["report", rocket, "--model", vit, "--explain-target", "similar-text:hi", "-o", out], "give it as --explain-text-target"),
            (["report", rocket, "--model", vit, "--explain-target", "top1", "--no-explain", "-o", out], "exclude each other"),
            (["report", "--text", "hi", "--model", bert, "--explain-target", "top1", "-o", out], "--explain-target applies to images"),
            (["report", rocket, "--model", vit, "--explain-text-target", "token:1,2", "-o", out], "applies to --text sentences"),
            (["report", "--text", "hi", "--model", bert, "--explain-text-target", "class:1", "-o", out], "use similar-text:TEXT or token:I,J"),
        ]
        for (args, message) in cases {
            let r = try CLI.run(args)
            #expect(r.status != 0)
            // Run-time refusals are one line (status 1); argument errors (status 64) add the usage after it.
            if r.status == 1 { #expect(r.errorLines.count == 1, "\(args): \(r.stderr)") }
            #expect(r.errorLines.first?.contains(message) == true, "\(args): \(r.stderr)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }

    @Test func explanationTargetsReachTheReport() throws {
        let dir = CLI.temporaryDirectory("report")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("r.html")
        let r = try CLI.run(["report", rocket, "--text", "The cat sat.", "--model", vit, "--model", bert, "--explain-target", "class:2",
                             "--explain-text-target", "token:1,2", "-o", out.path, "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        let html = try String(contentsOf: out, encoding: .utf8)
        #expect(html.contains("<h3>Explanation of <code>class:2</code> (class 2"))
        #expect(html.contains("<h3>Explanation of <code>token:1,2</code></h3>"))
        #expect(html.components(separatedBy: "<figure class=\"ex-method").count - 1 == 8)
        // --no-explain: no explanation part; a class the model does not have fails the image in one line.
        let bare = try CLI.run(["report", rocket, "--model", vit, "--no-explain", "-o", out.path, "--quiet"])
        let bareHTML = try String(contentsOf: out, encoding: .utf8)
        #expect(bare.status == 0 && !bareHTML.contains("Explanation"), "\(bare.stderr)")
        let bad = try CLI.run(["report", rocket, "--model", vit, "--explain-target", "class:99", "-o", out.path, "--quiet"])
        #expect(bad.status == 1 && bad.errorLines == ["vitlens: \(rocket): explanation of class:99: class index 99 is out of range: the model has 5 classes (0...4)"], "\(bad.stderr)")
    }

    @Test func aForeignFileIsNotOverwritten() throws {
        let dir = CLI.temporaryDirectory("report")
        defer { try? FileManager.default.removeItem(at: dir) }
        let notes = dir.appendingPathComponent("notes.html")
        try Data("<html>my notes</html>".utf8).write(to: notes)
        let r = try CLI.run(["report", rocket, "--model", vit, "-o", notes.path])
        #expect(r.status != 0)
        #expect(r.errorLines.count == 1 && r.errorLines[0].contains("\(notes.path): exists and is not a ViTLens report"), "\(r.stderr)")
        #expect(try String(contentsOf: notes, encoding: .utf8) == "<html>my notes</html>")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["notes.html"])
    }
}
