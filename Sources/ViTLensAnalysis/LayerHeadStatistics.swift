import ViTLensCore

/// One scalar per layer and head, averaged over the forward passes (images) an observer has seen.
public struct LayerHeadStatistics: Sendable, Equatable {
    /// Number of layers.
    public var layers: Int
    /// Heads per layer.
    public var heads: Int
    /// Number of forward passes (images) accumulated.
    public var images: Int
    /// Mean over images, `[layers, heads]`.
    public var mean: Tensor
    /// One value per image, `[images, layers, heads]`, in the order the passes ran.
    public var perImage: Tensor

    /// The mean value of `layer` and `head`.
    public func value(layer: Int, head: Int) -> Float { mean[layer, head] }
}

/// Sums per-image `[layers, heads]` values across forward passes.
struct LayerHeadAccumulator: Sendable {
    let analysis: String
    private(set) var layers = 0
    private(set) var heads = 0
    private var sums: [Double] = []
    private var perImage: [Float] = []
    private var images = 0
    /// The pass in progress, `[layers * heads]`.
    private var current: [Double] = []

    init(analysis: String) { self.analysis = analysis }

    /// Starts a pass; the first pass fixes the layer and head counts.
    mutating func begin(layers: Int, heads: Int) throws {
        if images == 0 && sums.isEmpty {
            self.layers = layers
            self.heads = heads
            sums = [Double](repeating: 0, count: layers * heads)
        } else if layers != self.layers || heads != self.heads {
            throw AnalysisError.geometryMismatch(
                analysis: analysis, expected: "\(self.layers) layers x \(self.heads) heads",
                found: "\(layers) layers x \(heads) heads")
        }
        current = [Double](repeating: 0, count: layers * heads)
    }

    /// Stores one layer's per-head values for the pass in progress.
    /// - Throws: ``AnalysisError/geometryMismatch(analysis:expected:found:)`` when the layer or head
    ///   count disagrees with what `begin` announced.
    mutating func record(layer: Int, values: [Double]) throws {
        guard layer >= 0 && layer < layers && values.count == heads else {
            throw AnalysisError.geometryMismatch(
                analysis: analysis, expected: "\(layers) layers x \(heads) heads",
                found: "layer \(layer) with \(values.count) heads")
        }
        for h in 0 ..< heads { current[layer * heads + h] = values[h] }
    }

    /// Ends a pass and returns the statistics so far.
    mutating func finish() -> LayerHeadStatistics {
        for i in 0 ..< sums.count { sums[i] += current[i] }
        perImage.append(contentsOf: current.map { Float($0) })
        images += 1
        let mean = sums.map { Float($0 / Double(images)) }
        return LayerHeadStatistics(
            layers: layers, heads: heads, images: images,
            mean: Tensor(shape: [layers, heads], values: mean),
            perImage: Tensor(shape: [images, layers, heads], values: perImage))
    }
}
