import Foundation
import ViTLensCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only memory mapping of a whole file, unmapped when the last reference goes away.
///
/// Mapping a 350 MB checkpoint takes well under a millisecond; pages are read from disk only when
/// a tensor is converted. The mapping is private and read-only, so later writes to the file by
/// other processes are not guaranteed to be seen (nor to be hidden).
final class MappedFile: @unchecked Sendable {
    /// The first byte of the file, or `nil` for an empty file.
    let base: UnsafeRawPointer?
    /// The file's size in bytes.
    let size: Int

    /// Maps the regular file at `path`.
    /// - Throws: ``CheckpointError/fileNotFound(file:)`` when it is missing,
    ///   ``CheckpointError/unreadableFile(file:problem:)`` when it is no readable regular file (a
    ///   FIFO is refused before it is opened, so it never blocks) or cannot be mapped.
    init(path: String) throws {
        let opened: (fd: Int32, size: Int)
        do { opened = try UserFile.openRegular(path) } catch { throw CheckpointError.file(path, error) }
        let fd = opened.fd
        defer { close(fd) }
        size = opened.size
        if size == 0 {
            base = nil
            return
        }
        let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let p, p != UnsafeMutableRawPointer(bitPattern: -1) else {
            throw CheckpointError.unreadableFile(file: path, problem: .from(errno: errno))
        }
        base = UnsafeRawPointer(p)
    }

    deinit {
        if let base { munmap(UnsafeMutableRawPointer(mutating: base), size) }
    }

    /// The whole file as raw bytes (empty for an empty file).
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: size) }
}
