import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a report page as one file, under ViTLens's output rule: never overwrite a file ViTLens did
/// not write.
///
/// An existing file is replaced only when it is a ViTLens report (its head carries
/// ``ReportHTML/generatorMarker``); a folder, a symbolic link, a device or any other file is
/// refused with a one-line ``ReportFileError``. The page is written to a temporary sibling, flushed,
/// and renamed over the target in one step, so a reader sees the old report or the new one, never a
/// part.
public enum ReportFile {
    /// How many leading bytes of an existing file are searched for the generator marker.
    static let markerWindow = 4096

    /// Checks that `path` may receive a report (call it before the work, to fail fast).
    /// - Throws: ``ReportFileError`` naming `path`.
    public static func check(_ path: String) throws {
        guard !path.isEmpty else { throw ReportFileError(path: path, problem: "the output path is empty") }
        let url = URL(fileURLWithPath: path)
        var info = stat()
        if lstat(path, &info) == 0 {
            switch info.st_mode & S_IFMT {
            case S_IFLNK: throw ReportFileError(path: path, problem: "is a symbolic link; ViTLens writes reports only to plain paths")
            case S_IFDIR: throw ReportFileError(path: path, problem: "is a folder; give a file name such as report.html")
            case S_IFREG:
                guard try isReport(path) else {
                    throw ReportFileError(path: path, problem: "exists and is not a ViTLens report (no generator marker); ViTLens does not overwrite files it did not write: choose another name")
                }
            default: throw ReportFileError(path: path, problem: "exists and is not a regular file")
            }
        } else if errno != ENOENT {
            throw ReportFileError(path: path, problem: "cannot be checked (\(String(cString: strerror(errno))))")
        }
        let parent = url.deletingLastPathComponent().path
        var parentInfo = stat()
        guard stat(parent, &parentInfo) == 0, parentInfo.st_mode & S_IFMT == S_IFDIR else {
            throw ReportFileError(path: path, problem: "its folder \(parent) does not exist")
        }
    }

    /// Writes `html` to `path` (see the type's rules).
    /// - Throws: ``ReportFileError`` naming `path` for a refused target or a failed write (nothing is
    ///   left behind then).
    public static func write(_ html: String, to path: String) throws {
        try check(path)
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).vitlens-\(getpid())-\(UInt32.random(in: 0 ... .max)).tmp").path
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else {
            throw ReportFileError(path: path, problem: "cannot create a temporary file beside it (\(String(cString: strerror(errno))))")
        }
        var failure: String?
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: false)
        do {
            try handle.write(contentsOf: Data(html.utf8))
            try handle.synchronize()
        } catch {
            failure = "write failed (\(error.localizedDescription))"
        }
        close(fd)
        if failure == nil {
            // The check again, just before the swap: a file that appeared meanwhile must still be a report.
            do { try check(path) } catch {
                unlink(temporary)
                throw error
            }
            if rename(temporary, path) != 0 { failure = "cannot move the finished report into place (\(String(cString: strerror(errno))))" }
        }
        if let failure {
            unlink(temporary)
            throw ReportFileError(path: path, problem: failure)
        }
    }

    /// Whether the regular file at `path` starts with a ViTLens report head.
    static func isReport(_ path: String) throws -> Bool {
        let fd = open(path, O_RDONLY | O_NOFOLLOW)
        guard fd >= 0 else { throw ReportFileError(path: path, problem: "exists but cannot be read (\(String(cString: strerror(errno))))") }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: markerWindow)
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { return false }
        let head = String(decoding: buffer[0 ..< n], as: UTF8.self)
        return head.hasPrefix("<!DOCTYPE html>") && head.contains(ReportHTML.generatorMarker)
    }
}

/// A report path ViTLens refuses or could not write, as one line: `out.html: is a folder; ...`.
public struct ReportFileError: Error, CustomStringConvertible, Equatable {
    /// The path given.
    public var path: String
    /// What is wrong.
    public var problem: String

    public var description: String { "\(path.isEmpty ? "--out" : path): \(problem)" }
}
