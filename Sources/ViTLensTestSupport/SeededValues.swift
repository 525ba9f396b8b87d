/// `count` deterministic pseudo-random floats in `[-scale, scale]` from `seed` (a 64-bit LCG, the
/// high bits), for tests that need the same varied inputs on every run and machine.
public func seededValues(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
    var s = seed
    return (0 ..< count).map { _ in
        s = s &* 6364136223846793005 &+ 1442695040888963407
        return (Float(s >> 40) / Float(1 << 24) * 2 - 1) * scale
    }
}
