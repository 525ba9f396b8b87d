import Foundation
import Testing
import ViTLens
import ViTLensTestSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Paths that are not regular files (FIFOs, devices, directories, symbolic link loops), config
/// errors that must not be blamed on the photo, and `--text` that is empty, not UTF-8 or too long:
/// each gets one line saying what is really wrong, quickly, with a non-zero exit.
@Suite(.serialized) struct HostileFileTests {
    let vit = Fixtures.url("models/vit-p16-cls")
    let bert = Fixtures.url("models/bert-tiny")
    let photo = "photos/rocket.jpg"

    /// Runs `args` with a short time limit and checks: it ended in time, failed with status 1 (or
    /// `status`), and its one stderr line names `mentions` and says `problem`.
    @discardableResult
    func expectFailure(_ args: [String], mentions: String, problem: String, status: Int32 = 1,
                       sourceLocation: SourceLocation = #_sourceLocation) throws -> CLI.Result {
        let start = Date()
        let r = try CLI.run(args, timeout: 20)
        let elapsed = Date().timeIntervalSince(start)
        #expect(elapsed < 10, "took \(elapsed) s (blocked?)", sourceLocation: sourceLocation)
        #expect(r.status == status, "exit status \(r.status) for \(args): \(r.stderr)", sourceLocation: sourceLocation)
        let first = r.errorLines.first ?? ""
        #expect(first.contains(mentions), "'\(first)' does not name \(mentions)", sourceLocation: sourceLocation)
        #expect(first.contains(problem), "'\(first)' does not say '\(problem)'", sourceLocation: sourceLocation)
        if status == 1 { #expect(r.errorLines.count == 1, "\(r.stderr)", sourceLocation: sourceLocation) }
        return r
    }

    /// A copy of a fixture model folder, with `edit` applied.
    func modelCopy(_ source: URL, _ tag: String, _ edit: (URL) throws -> Void = { _ in }) throws -> URL {
        let dir = CLI.temporaryDirectory(tag)
        for name in try FileManager.default.contentsOfDirectory(atPath: source.path) {
            try FileManager.default.copyItem(at: source.appendingPathComponent(name), to: dir.appendingPathComponent(name))
        }
        try edit(dir)
        return dir
    }

    /// Replaces `name` in `folder` by a FIFO.
    func fifo(_ folder: URL, _ name: String) throws -> URL {
        let url = folder.appendingPathComponent(name)
        try? FileManager.default.removeItem(at: url)
        #expect(mkfifo(url.path, 0o644) == 0)
        return url
    }

    func out(_ tag: String) -> String { CLI.temporaryDirectory("out-\(tag)").appendingPathComponent("result").path }

    // MARK: - FIFOs, devices, directories, links

    @Test func fifoAsImage() throws {
        let pipe = try fifo(CLI.temporaryDirectory("fifo-image"), "photo.jpg")
        try expectFailure(["heads", pipe.path, "--model", vit.path, "--out", out("fifo-image")],
                          mentions: pipe.path, problem: "is a FIFO, not a regular file")
    }

    /// A FIFO in place of any file of a model folder: weights, configs, tokenizer files.
    @Test(arguments: [("vit", "model.safetensors"), ("vit", "config.json"), ("vit", "preprocessor_config.json"),
                      ("bert", "tokenizer.json"), ("bert", "tokenizer_config.json")])
    func fifoInAModelFolder(_ family: String, _ name: String) throws {
        let model = try modelCopy(family == "vit" ? vit : bert, "fifo-\(name)")
        let pipe = try fifo(model, name)
        let input = family == "vit" ? [photo] : ["--text", "a cat"]
        try expectFailure(["heads"] + input + ["--model", model.path, "--out", out("fifo-model")],
                          mentions: pipe.path, problem: "is a FIFO, not a regular file")
        if name == "model.safetensors" {  // named directly as the weights file, too
            try expectFailure(["heads", photo, "--model", pipe.path, "--out", out("fifo-weights")],
                              mentions: pipe.path, problem: "is a FIFO, not a regular file")
        }
    }

    @Test func fifoAsAttentionArray() throws {
        let pipe = try fifo(CLI.temporaryDirectory("fifo-npy"), "attentions.npy")
        try expectFailure(["rollout", "--attentions", pipe.path, "--prefix-tokens", "1", "--grid", "2x2", "--patch-size", "16",
                           "--out", out("fifo-npy")],
                          mentions: pipe.path, problem: "is a FIFO, not a regular file")
    }

    @Test func fifoAsONNX() throws {
        let pipe = try fifo(CLI.temporaryDirectory("fifo-onnx"), "model.onnx")
        try expectFailure(["import-onnx", pipe.path, "--out", out("fifo-onnx")], mentions: pipe.path, problem: "is a FIFO, not a regular file")
    }

    @Test func devicesAreNotFiles() throws {
        try expectFailure(["heads", "/dev/null", "--model", vit.path, "--out", out("dev-image")],
                          mentions: "/dev/null", problem: "is a character device, not a regular file")
        try expectFailure(["heads", photo, "--model", "/dev/zero", "--out", out("dev-model")],
                          mentions: "/dev/zero", problem: "is a character device, not a regular file")
    }

    @Test func symbolicLinkLoops() throws {
        let dir = CLI.temporaryDirectory("loop")
        let a = dir.appendingPathComponent("a.jpg"), b = dir.appendingPathComponent("b.jpg")
        try FileManager.default.createSymbolicLink(atPath: a.path, withDestinationPath: b.path)
        try FileManager.default.createSymbolicLink(atPath: b.path, withDestinationPath: a.path)
        try expectFailure(["heads", a.path, "--model", vit.path, "--out", out("loop-image")],
                          mentions: a.path, problem: "symbolic link loop")
        try expectFailure(["heads", photo, "--model", a.path, "--out", out("loop-model")],
                          mentions: a.path, problem: "symbolic link loop")
        let model = try modelCopy(vit, "loop-config") { folder in
            let config = folder.appendingPathComponent("config.json")
            try FileManager.default.removeItem(at: config)
            try FileManager.default.createSymbolicLink(atPath: config.path, withDestinationPath: config.path)
        }
        try expectFailure(["heads", photo, "--model", model.path, "--out", out("loop-config")],
                          mentions: model.appendingPathComponent("config.json").path, problem: "symbolic link loop")
    }

    @Test func danglingLinkAsImage() throws {
        let link = CLI.temporaryDirectory("dangling").appendingPathComponent("photo.jpg")
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: "/no/such/target.jpg")
        try expectFailure(["heads", link.path, "--model", vit.path, "--out", out("dangling")],
                          mentions: link.path, problem: "is a symbolic link to a file that does not exist")
    }

    @Test func directoriesWhereFilesBelong() throws {
        let folder = CLI.temporaryDirectory("dir-image")
        // A one-image command reads IMAGE as a file; the many-image commands search a folder for images.
        try expectFailure(["analyze", folder.path, "--model", vit.path, "--out", out("dir-image")],
                          mentions: folder.path, problem: "is a directory")
        try expectFailure(["heads", folder.path, "--model", vit.path, "--out", out("dir-image-heads")],
                          mentions: folder.path, problem: "no images found")
        let model = try modelCopy(vit, "dir-config") { folder in
            let config = folder.appendingPathComponent("config.json")
            try FileManager.default.removeItem(at: config)
            try FileManager.default.createDirectory(at: config, withIntermediateDirectories: false)
        }
        try expectFailure(["heads", photo, "--model", model.path, "--out", out("dir-config")],
                          mentions: model.appendingPathComponent("config.json").path, problem: "is a directory, not a file")
    }

    // MARK: - Config errors are the config's

    /// `preprocessor_config.json` that makes every image smaller than a patch names itself, not the photo.
    @Test(arguments: [
        ("size", "{\"height\": 8, \"width\": 8}", "size makes every image 8x8, smaller than the model's 16x16 patch"),
        ("crop_size", "{\"height\": 12, \"width\": 224}", "crop_size makes every image 12x224, smaller than the model's 16x16 patch"),
    ])
    func processorConfigIsBlamedNotThePhoto(_ field: String, _ value: String, _ problem: String) throws {
        let model = try modelCopy(vit, "pp-small") { folder in
            let url = folder.appendingPathComponent("preprocessor_config.json")
            var json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
            json[field] = try JSONSerialization.jsonObject(with: Data(value.utf8))
            if field == "crop_size" { json["do_center_crop"] = true }
            try JSONSerialization.data(withJSONObject: json).write(to: url)
        }
        let r = try expectFailure(["heads", photo, "--model", model.path, "--out", out("pp-small")],
                                  mentions: model.appendingPathComponent("preprocessor_config.json").path, problem: problem)
        #expect(!r.stderr.contains("rocket.jpg"))
        // With --size the processor's resize and crop are not used, so the same model runs.
        let ok = try CLI.run(["heads", photo, "--model", model.path, "--size", "32x32", "--out", out("pp-small-size")])
        #expect(ok.status == 0, "\(ok.stderr)")
    }

    /// A photo that is itself too small is still the photo's fault.
    @Test func tooSmallPhotoIsStillThePhoto() throws {
        try expectFailure(["heads", photo, "--model", vit.path, "--size", "8x8", "--out", out("small-photo")],
                          mentions: "rocket.jpg", problem: "smaller than one 16x16 patch")
    }

    // MARK: - --text

    @Test(arguments: ["   \t  ", "\u{01}\u{02}\u{7F}", " \u{200B} \u{00AD} "])
    func textWithNoTokens(_ text: String) throws {
        try expectFailure(["heads", "--text", text, "--model", bert.path, "--out", out("text-empty")],
                          mentions: "--text", problem: "has no tokens after normalisation (only whitespace or control characters)")
    }

    /// Bytes that are not UTF-8 cannot go through `Process` (its arguments are Swift strings), so a
    /// shell passes them; the argument is shell text (\351 is Latin-1 'é', invalid as UTF-8).
    @Test(arguments: ["--text \"$(printf 'caf\\351')\"", "\"--text=$(printf 'caf\\351 au lait')\""])
    func textThatIsNotUTF8(_ shellArgument: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "exec \"$0\" heads \(shellArgument) --model \"$1\" --out \"$2\"", CLI.executable.path, bert.path, out("text-utf8")]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let data = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let first = String(decoding: data, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
        #expect(p.terminationStatus == 64)
        #expect(first == "Error: --text is not valid UTF-8 (bytes that are not UTF-8 arrive as U+FFFD); pass the text in UTF-8")
    }

    /// U+FFFD typed on purpose is valid UTF-8 and is kept.
    @Test func replacementCharacterTypedOnPurpose() throws {
        let r = try CLI.run(["heads", "--text", "a \u{FFFD} b", "--model", bert.path, "--out", out("text-fffd")])
        #expect(r.status == 0, "\(r.stderr)")
    }

    var longText: String { Array(repeating: "the dog and the cat", count: 20).joined(separator: " ") }

    @Test func textLongerThanTheModelIsRefused() throws {
        try expectFailure(["heads", "--text", longText, "--model", bert.path, "--out", out("text-long")],
                          mentions: "--text", problem: "--text is 102 tokens, more than the model's max_position_embeddings of 64; "
                              + "shorten the text or pass --truncate to keep the first 64")
    }

    @Test func truncateCutsAndSaysSo() throws {
        let folder = out("text-truncate")
        let r = try CLI.run(["heads", "--text", longText, "--model", bert.path, "--truncate", "--out", folder])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.errorLines.contains("--truncate: kept the first 64 of 102 tokens"))
        let meta = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder).appendingPathComponent("heads.json")))
            as? [String: Any])
        #expect(meta["text_tokens"] as? Int == 64)
        #expect(meta["text_untruncated_tokens"] as? Int == 102)
        #expect(meta["text_truncated"] as? Bool == true)
        let tokens = try #require(meta["tokens"] as? [String])
        #expect(tokens.count == 64 && tokens.first == "[CLS]" && tokens.last == "[SEP]")
    }

    @Test func textThatFitsIsNotMarkedTruncated() throws {
        let folder = out("text-short")
        let r = try CLI.run(["heads", "--text", "the dog and the cat", "--model", bert.path, "--truncate", "--out", folder])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!r.stderr.contains("--truncate:"))
        let meta = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder).appendingPathComponent("heads.json")))
            as? [String: Any])
        #expect(meta["text_truncated"] as? Bool == false)
        #expect(meta["text_tokens"] as? Int == 7)
    }

    @Test func truncateNeedsText() throws {
        try expectFailure(["heads", photo, "--model", vit.path, "--truncate", "--out", out("truncate-image")],
                          mentions: "--truncate", problem: "--truncate goes with --text", status: 64)
    }
}
