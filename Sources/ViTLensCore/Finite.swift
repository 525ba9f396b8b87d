/// Fast checks for NaN and infinities in float buffers, used wherever a value from a file or a
/// forward pass is about to be trusted (weights at load, activations between layers, maps before
/// they are rendered or written).
public enum Finite {
    /// The index of the first NaN or infinity in `x[0 ..< n]`, or `nil` when all are finite.
    ///
    /// A float is non-finite exactly when its 8 exponent bits are all ones. The scan ORs
    /// `(bits & 0x7F80_0000) + 0x0080_0000` over the buffer, whose sign bit is set only for such
    /// an exponent: an integer reduction the compiler vectorises (about memory speed), followed by a
    /// scalar search only when something was found.
    @inlinable
    public static func firstNonFinite(_ x: UnsafePointer<Float>, count n: Int) -> Int? {
        guard n > 0 else { return nil }
        let bits = UnsafeRawPointer(x).assumingMemoryBound(to: UInt32.self)
        var flags: UInt32 = 0
        for i in 0 ..< n { flags |= (bits[i] & 0x7F80_0000) &+ 0x0080_0000 }
        guard flags & 0x8000_0000 != 0 else { return nil }
        for i in 0 ..< n where !x[i].isFinite { return i }
        return nil
    }

    /// ``firstNonFinite(_:count:)`` over a buffer.
    @inlinable
    public static func firstNonFinite(_ x: UnsafeBufferPointer<Float>) -> Int? {
        guard let base = x.baseAddress else { return nil }
        return firstNonFinite(base, count: x.count)
    }

    /// ``firstNonFinite(_:count:)`` over an array.
    @inlinable
    public static func firstNonFinite(_ x: [Float]) -> Int? {
        x.withUnsafeBufferPointer { firstNonFinite($0) }
    }

    /// How a non-finite value reads in messages: `NaN`, `inf` or `-inf` (other values as Swift
    /// prints them).
    public static func describe(_ v: Float) -> String {
        if v.isNaN { return "NaN" }
        if v == .infinity { return "inf" }
        if v == -.infinity { return "-inf" }
        return "\(v)"
    }
}
