/// A heap buffer of IEEE half-precision floats (`Float16`): half the bytes of ``FloatStorage`` for
/// large arrays kept at reduced precision (rollout's stored layers).
///
/// Allocated like ``FloatStorage`` (buffers of 4 MB and more mapped with `MAP_POPULATE` on Linux);
/// contents start zeroed or uninitialised. `Float16` arithmetic is not needed: values are converted
/// to and from `Float` (`vcvtps2ph`/`vcvtph2ps` with F16C, e.g. `-target-cpu haswell`; a runtime
/// call otherwise).
public final class HalfStorage: @unchecked Sendable {
    /// Number of half floats.
    public let count: Int
    /// The first half float.
    public let pointer: UnsafeMutablePointer<Float16>
    private let block: LargeBlock

    /// Allocates `count` half floats.
    public init(count: Int) {
        self.count = count
        block = LargeBlock(bytes: max(1, count) * MemoryLayout<Float16>.stride)
        pointer = block.base.bindMemory(to: Float16.self, capacity: max(1, count))
    }

    /// The half floats as a buffer.
    public var buffer: UnsafeMutableBufferPointer<Float16> { UnsafeMutableBufferPointer(start: pointer, count: count) }
}
