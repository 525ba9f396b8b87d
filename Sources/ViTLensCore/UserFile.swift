import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What is wrong with a path that should name a regular file the user gave ViTLens to read.
///
/// ``description`` is the problem only (`is a FIFO, not a regular file`); each module's error enum
/// puts the file name in front.
public enum FileProblem: Error, Equatable, Sendable, CustomStringConvertible {
    /// Nothing at that path (`ENOENT`, `ENOTDIR` on a path component).
    case noSuchFile
    /// A symbolic link whose target does not exist.
    case danglingSymlink
    /// Too many levels of symbolic links (`ELOOP`), e.g. `a -> b -> a`.
    case symlinkLoop
    /// The path or the file may not be read (`EACCES`, `EPERM`).
    case permissionDenied
    /// A directory where a file was expected.
    case isDirectory
    /// A FIFO, device or socket: reading it could block forever or never end.
    case notRegular(kind: String)
    /// Any other system error, with the system's text.
    case systemError(code: Int32, message: String)

    /// The problem in words, without the file name.
    public var description: String {
        switch self {
        case .noSuchFile: return "no such file"
        case .danglingSymlink: return "is a symbolic link to a file that does not exist"
        case .symlinkLoop: return "symbolic link loop (too many levels of symbolic links)"
        case .permissionDenied: return "permission denied"
        case .isDirectory: return "is a directory, not a file"
        case .notRegular(let kind): return "is \(kind), not a regular file"
        case .systemError(let code, let message): return "cannot read (errno \(code): \(message))"
        }
    }

    /// The problem an `errno` from `stat`/`open` stands for.
    public static func from(errno code: Int32) -> FileProblem {
        switch code {
        case ENOENT, ENOTDIR: return .noSuchFile
        case ELOOP: return .symlinkLoop
        case EACCES, EPERM: return .permissionDenied
        case EISDIR: return .isDirectory
        default: return .systemError(code: code, message: String(cString: strerror(code)))
        }
    }

    /// The problem with a file of `stat` mode `mode` that is not a regular file, or `nil` when it is one.
    public static func from(mode: mode_t) -> FileProblem? {
        switch mode & S_IFMT {
        case S_IFREG: return nil
        case S_IFDIR: return .isDirectory
        case S_IFIFO: return .notRegular(kind: "a FIFO")
        case S_IFCHR: return .notRegular(kind: "a character device")
        case S_IFBLK: return .notRegular(kind: "a block device")
        case S_IFSOCK: return .notRegular(kind: "a socket")
        default: return .notRegular(kind: "a special file")
        }
    }
}

/// Checks and reads files named by the user: regular files only, so a FIFO or a device given as a
/// model or an image fails at once with a message saying what it is, instead of blocking forever.
///
/// Every reader of user files (images, `config.json`, `preprocessor_config.json`, safetensors
/// files and index, tokenizer files, `.npy`, `.onnx`) goes through ``check(_:)`` before it opens the
/// file, or through ``read(_:mapped:)``/``openRegular(_:)``, which check, open without blocking
/// (`O_NONBLOCK`) and check the opened descriptor again (so a file swapped for a FIFO between the
/// two steps is still refused).
public enum UserFile {
    /// Whether `path` names an existing regular file (symbolic links followed); no message.
    public static func isRegularFile(_ path: String) -> Bool { check(path) == nil }

    /// What is wrong with `path` as a regular file to read, or `nil` when it is one.
    ///
    /// `stat`-based: follows symbolic links; a link loop gives ``FileProblem/symlinkLoop``, a link
    /// to nothing ``FileProblem/danglingSymlink``, a FIFO, device or socket
    /// ``FileProblem/notRegular(kind:)``. A file without read permission gives
    /// ``FileProblem/permissionDenied`` (never for root, who may read anything).
    public static func check(_ path: String) -> FileProblem? {
        var st = stat()
        guard stat(path, &st) == 0 else {
            let code = errno
            if code == ENOENT {
                var link = stat()
                if lstat(path, &link) == 0, (link.st_mode & S_IFMT) == S_IFLNK { return .danglingSymlink }
            }
            return .from(errno: code)
        }
        if let problem = FileProblem.from(mode: st.st_mode) { return problem }
        guard access(path, R_OK) == 0 else { return .from(errno: errno) }
        return nil
    }

    /// Opens the regular file at `path` for reading and returns the descriptor (the caller closes it).
    ///
    /// Checks with ``check(_:)`` first, opens with `O_NONBLOCK` (opening a FIFO never waits for a
    /// writer) and checks the descriptor with `fstat`.
    /// - Throws: ``FileProblem``.
    public static func openRegular(_ path: String) throws(FileProblem) -> (fd: Int32, size: Int) {
        if let problem = check(path) { throw problem }
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw FileProblem.from(errno: errno) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let code = errno
            close(fd)
            throw FileProblem.from(errno: code)
        }
        if let problem = FileProblem.from(mode: st.st_mode) {
            close(fd)
            throw problem
        }
        return (fd, Int(st.st_size))
    }

    /// The whole contents of the regular file at `path`.
    ///
    /// - Parameters:
    ///   - path: The file.
    ///   - mapped: Map the file read-only instead of copying it (for large files: images, `.npy`,
    ///     `.onnx`); the mapping lives as long as the returned `Data`.
    /// - Throws: ``FileProblem``.
    public static func read(_ path: String, mapped: Bool = false) throws(FileProblem) -> Data {
        let (fd, size) = try openRegular(path)
        defer { close(fd) }
        if size == 0 { return Data() }
        if mapped {
            let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
            if let p, p != UnsafeMutableRawPointer(bitPattern: -1) {
                return Data(bytesNoCopy: p, count: size, deallocator: .custom { pointer, count in munmap(pointer, count) })
            }
        }
        var data = Data(count: size)
        var done = 0
        while done < size {
            let n = data.withUnsafeMutableBytes { buffer in
                readBytes(fd, buffer.baseAddress.unsafelyUnwrapped + done, size - done)
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileProblem.from(errno: errno)
            }
            if n == 0 { break }
            done += n
        }
        if done < size { data.removeSubrange(done...) }
        return data
    }
}

/// `read(2)` under another name (inside ``UserFile`` the name `read` is the static method).
private func readBytes(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(fd, buffer, count)
}
