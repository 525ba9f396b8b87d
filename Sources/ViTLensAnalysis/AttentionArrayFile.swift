import Foundation
import ViTLensCore

/// A user-supplied stack of attention probabilities, `[layers, heads, N, N]`, validated against a
/// token layout and replayable into any ``AttentionObserver`` as if a forward pass produced it.
///
/// Validation (each failure is an ``AnalysisError`` naming the file and, where it applies, the
/// layer, head and row):
/// - rank 4 with square `N x N` matrices and `N == P + rows·columns` (or the text token count);
/// - a float dtype (`<f4`, `<f8`, `<f2`; values are used as float32);
/// - every value finite and ≥ 0;
/// - every row sums to 1 within ``rowSumTolerance`` (sum in double), i.e. post-softmax attention.
public struct AttentionArrayFile: Sendable {
    /// Largest accepted `|Σ_j A[l, h, i, j] − 1|`.
    public static let rowSumTolerance = 1e-3

    /// The name used in messages (the file path, or a caller-chosen label).
    public let name: String
    /// The layout the tokens follow.
    public let layout: TokenLayout
    /// The probabilities, `[layers, heads, tokens, tokens]`.
    public let attentions: Tensor

    /// Number of layers.
    public var layers: Int { attentions.shape[0] }
    /// Heads per layer.
    public var heads: Int { attentions.shape[1] }
    /// Sequence length `N`.
    public var tokens: Int { attentions.shape[2] }

    /// The geometry ``replay(into:)`` announces (head width unknown, reported as 0).
    public var geometry: AttentionGeometry {
        AttentionGeometry(layers: layers, heads: heads, tokens: tokens, headDim: 0, layout: layout)
    }

    /// Loads and validates a `.npy` file.
    /// - Throws: `NPYError` when the file cannot be read as `.npy`; ``AnalysisError`` for a wrong
    ///   dtype, shape or non-probability rows.
    public init(contentsOf url: URL, layout: TokenLayout) throws {
        // The file's bytes and the float32 stack are both held while converting (f8: 1.5x the file).
        if let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber)?.intValue,
           let needed = Limits.product(size, 2), needed > MemoryBudget.limit {
            throw AnalysisError.tooLarge(file: url.path, bytes: size, needed: needed, limit: MemoryBudget.limit)
        }
        let array = try NPY.read(url)
        guard array.dtype.hasPrefix("<f") else { throw AnalysisError.unsupportedDType(file: url.path, dtype: array.dtype) }
        try self.init(attentions: array.tensor, layout: layout, name: url.path)
    }

    /// Validates an in-memory stack; `name` labels error messages.
    /// - Throws: ``AnalysisError`` for a wrong shape or non-probability rows.
    public init(attentions: Tensor, layout: TokenLayout, name: String) throws {
        let s = attentions.shape
        let n = layout.tokenCount
        let expected = "[layers, heads, \(n), \(n)] for \(layout)"
        guard s.count == 4, s[2] == s[3], s[2] == n, s[0] > 0, s[1] > 0 else {
            throw AnalysisError.shapeMismatch(file: name, shape: s, expected: expected)
        }
        try attentions.values.withUnsafeBufferPointer { v in
            for l in 0 ..< s[0] {
                for h in 0 ..< s[1] {
                    for i in 0 ..< n {
                        let base = ((l * s[1] + h) * n + i) * n
                        var sum = 0.0
                        for j in 0 ..< n {
                            let x = v[base + j]
                            guard x.isFinite && x >= 0 else {
                                throw AnalysisError.invalidProbability(file: name, layer: l, head: h, row: i, column: j, value: x)
                            }
                            sum += Double(x)
                        }
                        guard abs(sum - 1) <= Self.rowSumTolerance else {
                            throw AnalysisError.rowSumNotOne(file: name, layer: l, head: h, row: i, sum: sum, tolerance: Self.rowSumTolerance)
                        }
                    }
                }
            }
        }
        self.name = name
        self.layout = layout
        self.attentions = attentions
    }

    /// Builds an image layout from command-line style values: `prefixTokens` tokens (the first is
    /// CLS, the others registers; 0 for models without CLS), then a `rows x columns` grid of
    /// `patchSize`-pixel patches.
    ///
    /// Every analysis treats all non-CLS prefix tokens alike, so registers stand in for a
    /// distillation token too; build a ``TokenLayout`` directly to name them.
    /// - Throws: ``AnalysisError/invalidLayout(_:)`` for a negative prefix count or a non-positive size.
    public static func layout(prefixTokens: Int, rows: Int, columns: Int, patchSize: Int) throws -> TokenLayout {
        guard prefixTokens >= 0 else { throw AnalysisError.invalidLayout("prefix token count \(prefixTokens) is negative") }
        guard rows > 0 && columns > 0 && patchSize > 0 else {
            throw AnalysisError.invalidLayout("grid \(rows)x\(columns) with patch size \(patchSize) needs positive sizes")
        }
        guard prefixTokens <= Limits.maxGridSide, rows <= Limits.maxGridSide, columns <= Limits.maxGridSide,
              patchSize <= Limits.maxGridSide else {
            throw AnalysisError.invalidLayout("prefix tokens \(prefixTokens), grid \(rows)x\(columns) and patch size \(patchSize) must each be at most \(Limits.maxGridSide)")
        }
        let prefix: [PrefixToken] = prefixTokens == 0 ? [] : [.cls] + Array(repeating: .register, count: prefixTokens - 1)
        return TokenLayout(prefix: prefix, grid: PatchGrid(rows: rows, columns: columns, patchSize: patchSize))
    }

    /// Feeds the stack to `observer` as a forward pass would: `begin`, `observe` per layer in
    /// order, `finish`.
    /// - Throws: whatever the observer throws.
    public func replay<Observer: AttentionObserver>(into observer: inout Observer) throws {
        try observer.begin(geometry)
        let statistics = observer.rowStatistics
        let n = tokens
        let block = heads * n * n
        try attentions.values.withUnsafeBufferPointer { v in
            for l in 0 ..< layers {
                let view = UnsafeBufferPointer(rebasing: v[(l * block) ..< ((l + 1) * block)])
                try observer.replay(layer: l, heads: heads, tokens: n, layout: layout, probabilities: view, statistics: statistics)
            }
        }
        try observer.finish()
    }
}
