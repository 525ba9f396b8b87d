import Foundation
import Testing
import ViTLens
import ViTLensTestSupport

/// INPUTS expansion (files, folders, @lists), sorting, de-duplication and the shard rule.
@Suite("Input list")
struct InputListTests {
    /// root/{b.PNG, a.jpg, notes.txt, .hidden.jpg, sub/c.jpeg, .git/d.jpg}
    private func tree() throws -> URL {
        let root = try temporaryFolder("inputlist")
        let fm = FileManager.default
        for folder in ["sub", ".git"] { try fm.createDirectory(at: root.appendingPathComponent(folder), withIntermediateDirectories: true) }
        for name in ["b.PNG", "a.jpg", "notes.txt", ".hidden.jpg", "sub/c.jpeg", ".git/d.jpg"] {
            try Data("x".utf8).write(to: root.appendingPathComponent(name))
        }
        return root
    }

    @Test func foldersAreSearchedRecursivelySortedAndFiltered() throws {
        let root = try tree()
        defer { try? FileManager.default.removeItem(at: root) }
        let list = try InputList(expanding: [root.path])
        #expect(list.paths == ["a.jpg", "b.PNG", "sub/c.jpeg"].map { root.path + "/" + $0 })
        // An explicit file is taken whatever its extension; the same file twice counts once.
        let mixed = try InputList(expanding: [root.path + "/notes.txt", root.path, root.path + "/./a.jpg"])
        // The first spelling in byte order is kept ("./a.jpg" sorts before "a.jpg").
        #expect(mixed.paths == ["./a.jpg", "b.PNG", "notes.txt", "sub/c.jpeg"].map { root.path + "/" + $0 })
    }

    @Test func listFilesAreRelativeToTheirFolderWithComments() throws {
        let root = try tree()
        defer { try? FileManager.default.removeItem(at: root) }
        try Data("# photos\n\nsub/c.jpeg\r\n  a.jpg\nsub\n".utf8).write(to: root.appendingPathComponent("list.txt"))
        let list = try InputList(expanding: ["@" + root.path + "/list.txt"])
        #expect(list.paths == [root.path + "/a.jpg", root.path + "/sub/c.jpeg"])
        try Data("a.jpg\nmissing.jpg\n".utf8).write(to: root.appendingPathComponent("bad.txt"))
        #expect(throws: InputListError.missing(path: root.path + "/missing.jpg", origin: root.path + "/bad.txt:2")) {
            try InputList(expanding: ["@" + root.path + "/bad.txt"])
        }
        let error = InputListError.missing(path: "x/missing.jpg", origin: "x/bad.txt:2")
        #expect(error.description == "x/missing.jpg: no such file or folder (x/bad.txt:2)")
    }

    @Test func badArgumentsFailWithOneLine() throws {
        let root = try tree()
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(throws: InputListError.missing(path: root.path + "/nope", origin: nil)) { try InputList(expanding: [root.path + "/nope"]) }
        #expect(throws: InputListError.emptyListName) { try InputList(expanding: ["@"]) }
        #expect(throws: InputListError.unreadableList(file: root.path + "/none.txt", reason: "no such file")) {
            try InputList(expanding: ["@" + root.path + "/none.txt"])
        }
        try FileManager.default.createDirectory(at: root.appendingPathComponent("empty"), withIntermediateDirectories: true)
        #expect(throws: InputListError.noImages(arguments: [root.path + "/empty"])) { try InputList(expanding: [root.path + "/empty"]) }
        for bad in ["4/4", "-1/2", "1", "a/2", "1/0", "+1/2", " 1/2", "1/2/3"] {
            #expect(throws: InputListError.badShard(text: bad)) { try Shard(parsing: bad) }
        }
        #expect(InputListError.badShard(text: "4/4").description == "--shard 4/4: expected I/N with 0 <= I < N (for example 0/4)")
    }

    @Test func shardsPartitionTheListRoundRobin() throws {
        let list = InputList(paths: (0 ..< 10).map { "img\($0).jpg" } + ["img3.jpg"])
        #expect(list.count == 10)
        let s = try Shard(parsing: "1/3")
        #expect(s.description == "1/3")
        #expect(list.shard(s).map(\.index) == [1, 4, 7])
        #expect(list.shard(s).map(\.path) == ["img1.jpg", "img4.jpg", "img7.jpg"])
        for n in [1, 2, 3, 7, 11, 12] {
            let all = try (0 ..< n).flatMap { list.shard(try Shard(index: $0, count: n)) }
            #expect(all.map(\.index).sorted() == Array(0 ..< 10))
        }
        #expect(list.shard(.whole) == list.items)
    }
}
