#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A heap buffer of floats for large working arrays (attention matrices of thousands of tokens).
///
/// Buffers of 4 MB and more are 2 MB aligned and, on Linux, advised as transparent huge pages
/// (`madvise(MADV_HUGEPAGE)`): first touching a 311 MB attention buffer then takes ~150 page faults
/// instead of ~76,000. Contents start uninitialised.
public final class FloatStorage: @unchecked Sendable {
    /// Number of floats.
    public let count: Int
    /// The first float.
    public let pointer: UnsafeMutablePointer<Float>

    /// Allocates `count` uninitialised floats.
    public init(count: Int) {
        self.count = count
        let bytes = max(1, count) * MemoryLayout<Float>.stride
        let huge = 2 << 20
        var raw: UnsafeMutableRawPointer?
        if bytes >= 4 << 20, posix_memalign(&raw, huge, (bytes + huge - 1) / huge * huge) == 0, let r = raw {
            #if os(Linux)
            _ = madvise(r, (bytes + huge - 1) / huge * huge, 14 /* MADV_HUGEPAGE */)
            #endif
            pointer = r.bindMemory(to: Float.self, capacity: max(1, count))
        } else {
            pointer = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64).bindMemory(to: Float.self, capacity: max(1, count))
        }
    }

    deinit { free(pointer) }

    /// The floats as a buffer.
    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: pointer, count: count) }
}
