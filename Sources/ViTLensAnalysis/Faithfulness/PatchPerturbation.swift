import ViTLensCore

/// Deletion and insertion of whole patches of one model input (Petsiuk et al. 2018, RISE's
/// causal metrics, at patch granularity).
///
/// Patch `p` of the `gridRows x gridColumns` grid (row-major, `p = row * gridColumns + column`)
/// covers the `patchSize x patchSize` block at `(row * patchSize, column * patchSize)` of every
/// channel of the normalised pixel tensor (pixels past the last whole patch, which the model
/// ignores, are never changed). Patches are perturbed in `steps` chunks: after step `k` the first
/// `floor(k * patches / steps)` patches of the order are perturbed, so the fraction axis is that
/// count over the number of patches, from 0 to 1 and strictly increasing. The target is evaluated
/// once per point, `steps + 1` evaluations (forwards) per curve.
public struct PatchPerturbation: Sendable {
    /// The model input `[channels, H, W]`.
    public let pixels: Tensor
    /// Patch side in pixels.
    public let patchSize: Int
    /// Patch grid rows (`H / patchSize`, floored).
    public let gridRows: Int
    /// Patch grid columns (`W / patchSize`, floored).
    public let gridColumns: Int
    /// Number of perturbation steps (curve points minus one).
    public let steps: Int
    /// What perturbed patches become.
    public let baseline: PerturbationBaseline
    /// The baseline image, same shape as ``pixels``.
    public let baselineImage: Tensor

    /// Sets up perturbations of `pixels [channels, H, W]`.
    /// - Throws: ``FaithfulnessError`` for a bad pixel shape, a bad blur radius, or `steps`
    ///   outside `1 ... patches`.
    public init(pixels: Tensor, patchSize: Int, steps: Int = 16, baseline: PerturbationBaseline = .channelMean) throws {
        guard patchSize > 0, pixels.shape.count == 3, pixels.shape[0] > 0, pixels.shape[1] >= patchSize, pixels.shape[2] >= patchSize else {
            throw FaithfulnessError.pixelShape(pixels.shape, patchSize: patchSize)
        }
        self.pixels = pixels
        self.patchSize = patchSize
        gridRows = pixels.shape[1] / patchSize
        gridColumns = pixels.shape[2] / patchSize
        guard steps >= 1, steps <= gridRows * gridColumns else { throw FaithfulnessError.steps(steps, patches: gridRows * gridColumns) }
        self.steps = steps
        self.baseline = baseline
        baselineImage = try baseline.image(for: pixels)
    }

    /// Number of patches.
    public var patchCount: Int { gridRows * gridColumns }

    /// Evaluations per curve, `steps + 1`.
    public var evaluationsPerCurve: Int { steps + 1 }

    /// The fraction axis, `floor(k * patches / steps) / patches` for `k = 0 ... steps`.
    public var fractions: [Double] { (0 ... steps).map { Double(bound($0)) / Double(patchCount) } }

    /// Patches ordered by `map [gridRows, gridColumns]`, most important (largest) first, ties by index.
    /// - Throws: ``FaithfulnessError/mapShape(found:expected:)``, ``FaithfulnessError/nonFiniteMap(index:)``.
    public func order(map: Tensor) throws -> [Int] {
        let expected = [gridRows, gridColumns]
        guard map.shape == expected else { throw FaithfulnessError.mapShape(found: map.shape, expected: expected) }
        if let i = Finite.firstNonFinite(map.values) { throw FaithfulnessError.nonFiniteMap(index: i) }
        let v = map.values
        return v.indices.sorted { v[$0] > v[$1] || (v[$0] == v[$1] && $0 < $1) }
    }

    /// `count` random orders, each a seeded shuffle of the patches; the same seed gives the same orders.
    /// - Throws: ``FaithfulnessError/randomOrders(_:)`` for `count < 1`.
    public func randomOrders(count: Int, seed: UInt64) throws -> [[Int]] {
        guard count >= 1 else { throw FaithfulnessError.randomOrders(count) }
        var rng = SeededRandom(seed: seed)
        return (0 ..< count).map { _ in
            var o = Array(0 ..< patchCount)
            rng.shuffle(&o)
            return o
        }
    }

    /// The deletion curve: start from ``pixels``, replace patches by the baseline in `order`.
    /// - Throws: ``FaithfulnessError/order(patches:)``, ``FaithfulnessError/nonFiniteTarget(step:)`` or what `evaluate` throws.
    public func deletion(order: [Int], evaluate: (Tensor) throws -> Float) throws -> FaithfulnessCurve {
        try curve(order: order, start: pixels, source: baselineImage, evaluate: evaluate)
    }

    /// The insertion curve: start from the baseline image, reveal patches of ``pixels`` in `order`.
    /// - Throws: ``FaithfulnessError/order(patches:)``, ``FaithfulnessError/nonFiniteTarget(step:)`` or what `evaluate` throws.
    public func insertion(order: [Int], evaluate: (Tensor) throws -> Float) throws -> FaithfulnessCurve {
        try curve(order: order, start: baselineImage, source: pixels, evaluate: evaluate)
    }

    /// Patches perturbed after step `k`.
    func bound(_ k: Int) -> Int { k * patchCount / steps }

    private func curve(order: [Int], start: Tensor, source: Tensor, evaluate: (Tensor) throws -> Float) throws -> FaithfulnessCurve {
        guard order.count == patchCount, Set(order) == Set(0 ..< patchCount) else { throw FaithfulnessError.order(patches: patchCount) }
        var image = start
        var values: [Double] = []
        values.reserveCapacity(steps + 1)
        for k in 0 ... steps {
            if k > 0 { for p in order[bound(k - 1) ..< bound(k)] { copyPatch(p, from: source, into: &image) } }
            let v = try evaluate(image)
            guard v.isFinite else { throw FaithfulnessError.nonFiniteTarget(step: k) }
            values.append(Double(v))
        }
        return FaithfulnessCurve(fractions: fractions, values: values)
    }

    private func copyPatch(_ p: Int, from source: Tensor, into image: inout Tensor) {
        let (h, w) = (pixels.shape[1], pixels.shape[2])
        let (r0, c0) = ((p / gridColumns) * patchSize, (p % gridColumns) * patchSize)
        for ch in 0 ..< pixels.shape[0] {
            for r in r0 ..< (r0 + patchSize) {
                let o = (ch * h + r) * w + c0
                for i in o ..< (o + patchSize) { image.values[i] = source.values[i] }
            }
        }
    }
}
