import Foundation
import Testing
import ViTLensTestSupport
@testable import ViTLensCore

/// The output-folder rule: refuse folders with foreign files, swap complete sets in, keep other
/// commands' files, remove stale ones and dead staging folders.
@Suite struct OutputFolderTests {
    func scratch() throws -> URL { try temporaryFolder("outputfolder") }

    func names(_ dir: URL) throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() }

    func run(_ out: URL, _ command: String, _ files: [String: String]) throws {
        let folder = try OutputFolder(out.path, command: command)
        for (name, text) in files.sorted(by: { $0.key < $1.key }) { try folder.write(Data(text.utf8), name) }
        try folder.commit()
    }

    @Test func newFolderGetsFilesAndManifest() throws {
        let root = try scratch()
        let out = root.appendingPathComponent("out")
        try run(out, "heads", ["a.npy": "1", "sub/b.png": "22"])
        #expect(try names(out) == [OutputFolder.manifestName, "a.npy", "sub"])
        let manifest = try JSONDecoder().decode(OutputManifest.self, from: Data(contentsOf: out.appendingPathComponent(OutputFolder.manifestName)))
        #expect(manifest.runs.map(\.command) == ["heads"])
        #expect(manifest.runs[0].files == [.init(name: "a.npy", bytes: 1), .init(name: "sub/b.png", bytes: 2)])
        #expect(try names(root) == ["out"])  // no staging left beside it
    }

    @Test func sameCommandDropsStaleFilesOtherCommandsKept() throws {
        let root = try scratch()
        let out = root.appendingPathComponent("out")
        try run(out, "heads", ["head_00.png": "x", "head_05.png": "y"])
        try run(out, "rollout", ["rollout.npy": "r"])
        try run(out, "heads", ["head_00.png": "new"])
        #expect(try names(out) == [OutputFolder.manifestName, "head_00.png", "rollout.npy"])
        #expect(try String(contentsOf: out.appendingPathComponent("head_00.png"), encoding: .utf8) == "new")
        #expect(try names(root) == ["out"])
    }

    @Test func foreignFileIsRefusedAndKept() throws {
        let root = try scratch()
        let out = root.appendingPathComponent("out")
        try run(out, "heads", ["a.npy": "1"])
        try Data("mine".utf8).write(to: out.appendingPathComponent("notes.txt"))
        #expect(throws: OutputFolderError.refused(path: out.path, reason: "holds notes.txt, which ViTLens did not write: name a new or empty folder, or one ViTLens wrote")) {
            try OutputFolder(out.path, command: "heads")
        }
        #expect(try String(contentsOf: out.appendingPathComponent("notes.txt"), encoding: .utf8) == "mine")
    }

    @Test func editedOutputCountsAsForeign() throws {
        let root = try scratch()
        let out = root.appendingPathComponent("out")
        try run(out, "heads", ["a.npy": "1"])
        try Data("the user's own longer text".utf8).write(to: out.appendingPathComponent("a.npy"))
        #expect(throws: OutputFolderError.self) { try OutputFolder(out.path, command: "heads") }
    }

    @Test func foreignFileAppearingBeforeCommitStopsTheCommit() throws {
        let root = try scratch()
        let out = root.appendingPathComponent("out")
        try run(out, "heads", ["a.npy": "1"])
        let folder = try OutputFolder(out.path, command: "heads")
        try folder.write(Data("2".utf8), "a.npy")
        try Data("late".utf8).write(to: out.appendingPathComponent("late.txt"))
        #expect(throws: OutputFolderError.self) { try folder.commit() }
        #expect(try names(out) == [OutputFolder.manifestName, "a.npy", "late.txt"])
        #expect(try String(contentsOf: out.appendingPathComponent("a.npy"), encoding: .utf8) == "1")
    }

    @Test func refusedPlaces() throws {
        let root = try scratch()
        let home = ProcessInfo.processInfo.environment["HOME"] ?? "/root"
        for (path, reason) in [("", "is empty"), ("/", "is the root folder"), (".", "is the current folder"),
                               (FileManager.default.currentDirectoryPath + "/..", "is the current folder or one of its ancestors"),
                               (home, "is the home folder")] {
            do {
                _ = try OutputFolder(path, command: "x")
                Issue.record("\(path) was accepted")
            } catch let OutputFolderError.refused(_, r) {
                #expect(r.hasPrefix(reason), "\(path): \(r)")
            }
        }
        let photo = root.appendingPathComponent("photos/p.jpg")
        try FileManager.default.createDirectory(at: photo.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data([1]).write(to: photo)
        #expect(throws: OutputFolderError.refused(path: root.path, reason: "contains the input \(photo.path): name another folder for the outputs")) {
            try OutputFolder(root.path, command: "x", inputs: [photo.path])
        }
        let link = root.appendingPathComponent("link")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: root.appendingPathComponent("photos"))
        #expect(throws: OutputFolderError.refused(path: link.path, reason: "is a symbolic link: give the folder it points to")) {
            try OutputFolder(link.path, command: "x")
        }
        #expect(throws: OutputFolderError.refused(path: photo.path, reason: "exists and is not a folder")) {
            try OutputFolder(photo.path, command: "x")
        }
    }

    @Test func inputThatViTLensWroteMayStay() throws {
        let root = try scratch()
        let out = root.appendingPathComponent("out")
        try run(out, "dump", ["attentions.npy": "A"])
        let folder = try OutputFolder(out.path, command: "rollout", inputs: [out.appendingPathComponent("attentions.npy").path])
        try folder.write(Data("R".utf8), "rollout.npy")
        try folder.commit()
        #expect(try names(out) == [OutputFolder.manifestName, "attentions.npy", "rollout.npy"])
    }

    @Test func mustBeNewRefusesAnEarlierResult() throws {
        let root = try scratch()
        let out = root.appendingPathComponent("model")
        try run(out, "import-onnx", ["config.json": "{}"])
        #expect(throws: OutputFolderError.refused(path: out.path, reason: "exists and holds an earlier result: --force replaces it")) {
            try OutputFolder(out.path, command: "import-onnx", replacement: .everything, mustBeNew: true)
        }
        let empty = root.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let folder = try OutputFolder(empty.path, command: "import-onnx", replacement: .everything, mustBeNew: true)
        try folder.write(Data("{}".utf8), "config.json")
        try folder.commit()
        #expect(try names(empty) == [OutputFolder.manifestName, "config.json"])
    }

    @Test func uncommittedRunLeavesNothing() throws {
        let root = try scratch()
        let out = root.appendingPathComponent("out")
        do {
            let folder = try OutputFolder(out.path, command: "heads")
            try folder.write(Data("1".utf8), "a.npy")
        }
        #expect(try names(root).isEmpty)
    }

    @Test func badNamesAreRefused() throws {
        let folder = try OutputFolder(try scratch().appendingPathComponent("o").path, command: "x")
        for bad in ["", "/etc/passwd", "../x", "a/../../b", OutputFolder.manifestName] {
            #expect(throws: OutputFolderError.self) { try folder.write(Data(), bad) }
        }
        try folder.write(Data(), "ok")
        #expect(throws: OutputFolderError.self) { try folder.write(Data(), "ok") }
    }

    /// A process id that is not running (for dead staging folders).
    func deadPID() -> Int32 {
        var pid: Int32 = 4_000_000
        while OutputFolder.processExists(pid) { pid -= 1 }
        return pid
    }

    @Test func stagingOfDeadProcessesIsRemoved() throws {
        let root = try scratch()
        let out = root.appendingPathComponent("out")
        try run(out, "heads", ["a.npy": "1"])
        let dead = deadPID()
        // New layout: a sibling staging folder with its marker; old layout: inside --out.
        let sibling = root.appendingPathComponent(".out.vitlens-partial-\(dead)-7")
        try FileManager.default.createDirectory(at: sibling, withIntermediateDirectories: true)
        try Data().write(to: sibling.appendingPathComponent(OutputFolder.stagingMarker))
        try Data("half".utf8).write(to: sibling.appendingPathComponent("a.npy"))
        let inside = out.appendingPathComponent(".vitlens-partial-\(dead)")
        try FileManager.default.createDirectory(at: inside, withIntermediateDirectories: true)
        try Data("half".utf8).write(to: inside.appendingPathComponent("b.npy"))
        // A sibling that looks similar but was not written by ViTLens is left alone.
        let foreign = root.appendingPathComponent(".out.vitlens-partial-\(dead)-8")
        try FileManager.default.createDirectory(at: foreign, withIntermediateDirectories: true)
        try Data("theirs".utf8).write(to: foreign.appendingPathComponent("x.txt"))
        try run(out, "heads", ["a.npy": "2"])
        #expect(try names(root) == [".out.vitlens-partial-\(dead)-8", "out"])
        #expect(try names(out) == [OutputFolder.manifestName, "a.npy"])
    }

    @Test func concurrentCommitsBothFinishAndStayConsistent() async throws {
        let root = try scratch()
        let out = root.appendingPathComponent("out")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0 ..< 8 {
                group.addTask {
                    let command = i % 2 == 0 ? "heads" : "rollout"
                    let folder = try OutputFolder(out.path, command: command)
                    for j in 0 ..< 3 { try folder.write(Data("\(i)".utf8), "\(command)_\(j).npy") }
                    try folder.commit()
                }
            }
            try await group.waitForAll()
        }
        let manifest = try JSONDecoder().decode(OutputManifest.self, from: Data(contentsOf: out.appendingPathComponent(OutputFolder.manifestName)))
        let listed = Set(manifest.runs.flatMap { $0.files.map(\.name) })
        #expect(Set(try names(out)).subtracting([OutputFolder.manifestName]) == listed)
        #expect(Set(manifest.runs.map(\.command)) == ["heads", "rollout"])
        #expect(try names(root) == ["out"])
    }

    @Test func npyIsStreamedExactly() throws {
        let root = try scratch()
        let folder = try OutputFolder(root.appendingPathComponent("o").path, command: "x")
        let values = (0 ..< 3_000_000).map { Float($0) * 0.5 - 7 }
        try folder.writeNPY(float32: values, shape: [1000, 3000], "a.npy")
        try folder.commit()
        let data = try Data(contentsOf: root.appendingPathComponent("o/a.npy"))
        #expect(data == NPY.encode(float32: values, shape: [1000, 3000]))
    }
}
