import Foundation
import Testing
import ViTLensCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Files given by the user are regular files, checked before they are opened; each other kind of
/// path gets its own message, and a FIFO never blocks.
@Suite struct UserFileTests {
    let dir: URL

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("vitlens-userfile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    @Test func regularFileIsReadWholeAndMapped() throws {
        let bytes = Data((0 ..< 5000).map { UInt8(truncatingIfNeeded: $0) })
        try bytes.write(to: dir.appendingPathComponent("a.bin"))
        #expect(UserFile.check(path("a.bin")) == nil)
        #expect(try UserFile.read(path("a.bin")) == bytes)
        #expect(try UserFile.read(path("a.bin"), mapped: true) == bytes)
        try Data().write(to: dir.appendingPathComponent("empty"))
        #expect(try UserFile.read(path("empty"), mapped: true).isEmpty)
    }

    @Test func fifoIsRefusedWithoutBlocking() throws {
        #expect(mkfifo(path("pipe"), 0o644) == 0)
        let start = Date()
        #expect(UserFile.check(path("pipe")) == .notRegular(kind: "a FIFO"))
        #expect(throws: FileProblem.notRegular(kind: "a FIFO")) { try UserFile.read(path("pipe")) }
        #expect(Date().timeIntervalSince(start) < 1)
        #expect(FileProblem.notRegular(kind: "a FIFO").description == "is a FIFO, not a regular file")
    }

    @Test func devicesAndDirectories() throws {
        #expect(UserFile.check("/dev/null") == .notRegular(kind: "a character device"))
        #expect(UserFile.check(dir.path) == .isDirectory)
        #expect(FileProblem.isDirectory.description == "is a directory, not a file")
    }

    @Test func socketIsNamed() throws {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        #expect(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let name = Array(path("sock").utf8CString)
        guard name.count <= MemoryLayout.size(ofValue: address.sun_path) else { return }  // path too long for a socket here
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, c) in name.enumerated() { raw[i] = UInt8(bitPattern: c) }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0)
        #expect(UserFile.check(path("sock")) == .notRegular(kind: "a socket"))
    }

    @Test func symbolicLinks() throws {
        let fm = FileManager.default
        try fm.createSymbolicLink(atPath: path("loop-a"), withDestinationPath: path("loop-b"))
        try fm.createSymbolicLink(atPath: path("loop-b"), withDestinationPath: path("loop-a"))
        #expect(UserFile.check(path("loop-a")) == .symlinkLoop)
        #expect(FileProblem.symlinkLoop.description == "symbolic link loop (too many levels of symbolic links)")
        try fm.createSymbolicLink(atPath: path("dangling"), withDestinationPath: path("nothing-here"))
        #expect(UserFile.check(path("dangling")) == .danglingSymlink)
        try Data("x".utf8).write(to: dir.appendingPathComponent("target"))
        try fm.createSymbolicLink(atPath: path("good-link"), withDestinationPath: path("target"))
        #expect(UserFile.check(path("good-link")) == nil)
        #expect(UserFile.check(path("missing")) == .noSuchFile)
        #expect(UserFile.check(path("target") + "/below") == .noSuchFile)
    }

    /// Tests run as root, who may read any file, so the permission case is checked through the
    /// errno mapping (and through a real unreadable file when not root).
    @Test func errnoMapping() throws {
        #expect(FileProblem.from(errno: ENOENT) == .noSuchFile)
        #expect(FileProblem.from(errno: ELOOP) == .symlinkLoop)
        #expect(FileProblem.from(errno: EACCES) == .permissionDenied)
        #expect(FileProblem.from(errno: EPERM) == .permissionDenied)
        #expect(FileProblem.from(errno: EISDIR) == .isDirectory)
        #expect(FileProblem.from(errno: EIO) == .systemError(code: EIO, message: String(cString: strerror(EIO))))
        #expect(FileProblem.permissionDenied.description == "permission denied")
        if getuid() != 0 {
            try Data("x".utf8).write(to: dir.appendingPathComponent("secret"))
            chmod(path("secret"), 0)
            #expect(UserFile.check(path("secret")) == .permissionDenied)
        }
    }
}
