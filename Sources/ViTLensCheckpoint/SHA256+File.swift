import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// SHA-256 digests of files, for recording exactly which weights produced a result.
public enum FileDigest {
    /// The SHA-256 of the file at `url` as 64 lower-case hex digits, read in 4 MiB chunks.
    /// - Throws: ``CheckpointError/unreadableFile(file:problem:)`` naming the file when it cannot be opened or read.
    public static func sha256(of url: URL) throws -> String {
        let fd = open(url.path, O_RDONLY)
        guard fd >= 0 else { throw CheckpointError.unreadableFile(file: url.path, problem: .from(errno: errno)) }
        defer { close(fd) }
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: 4 << 20)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw CheckpointError.unreadableFile(file: url.path, problem: .from(errno: errno))
            }
            if n == 0 { break }
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0.prefix(n))) }
        }
        return hasher.hexDigest()
    }

    /// The SHA-256 of `data` as 64 lower-case hex digits.
    public static func sha256(of data: Data) -> String {
        var hasher = SHA256()
        hasher.update(data)
        return hasher.hexDigest()
    }

    /// The SHA-256 of a model's `config.json` bytes: the file, or the config a DINO preset made from
    /// flags (``ModelFiles/configData``), whose ``ModelFiles/config`` URL is the weights file.
    public static func configSHA256(of files: ModelFiles) throws -> String {
        if let data = files.configData { return sha256(of: data) }
        return try sha256(of: files.config)
    }
}
