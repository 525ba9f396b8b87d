import Foundation
import ViTLensCore

/// Where one weight of the written checkpoint comes from: ONNX initializers, each optionally
/// transposed from `[in, out]` to `[out, in]`, concatenated along the first axis (CLS and grid
/// position embeddings; SwiGLU gate and up halves), or zeros for a weight the graph cannot hold.
struct WeightSource {
    enum Part {
        /// A 2-D initializer used as is, or transposed.
        case tensor(ONNXTensor, transpose: Bool)
        /// `count` zeros.
        case zeros(Int)
    }

    var parts: [Part]
    /// The Hugging Face shape.
    var shape: [Int]

    /// A single initializer in its own shape, or transposed when `transpose` (2-D only).
    static func tensor(_ t: ONNXTensor, transpose: Bool = false) -> WeightSource {
        WeightSource(parts: [.tensor(t, transpose: transpose)], shape: transpose ? [t.dims[1], t.dims[0]] : t.dims)
    }

    /// Reads and assembles the values.
    func materialize() throws -> Tensor {
        var values: [Float] = []
        values.reserveCapacity(shape.reduce(1, *))
        for part in parts {
            switch part {
            case .zeros(let n):
                values += [Float](repeating: 0, count: n)
            case .tensor(let t, let transpose):
                let v = try t.floatValues()
                if transpose {
                    values += Self.transposed(v, rows: t.dims[0], columns: t.dims[1])
                } else {
                    values += v
                }
            }
        }
        return Tensor(shape: shape, values: values)
    }

    /// `[rows, columns]` row-major -> `[columns, rows]` row-major, in cache-friendly tiles.
    static func transposed(_ v: [Float], rows: Int, columns: Int) -> [Float] {
        precondition(v.count == rows * columns, "transpose of \(v.count) values as \(rows)x\(columns)")
        return [Float](unsafeUninitializedCapacity: v.count) { out, initialized in
            v.withUnsafeBufferPointer { src in
                let tile = 32
                for r0 in stride(from: 0, to: rows, by: tile) {
                    for c0 in stride(from: 0, to: columns, by: tile) {
                        for r in r0 ..< min(r0 + tile, rows) {
                            for c in c0 ..< min(c0 + tile, columns) { out[c * rows + r] = src[r * columns + c] }
                        }
                    }
                }
            }
            initialized = v.count
        }
    }
}

/// Everything the importer found in a graph: the configuration and the weights by Hub key.
struct BackbonePlan {
    var family: BackboneFamily
    var layers: Int
    var heads: Int
    var hidden: Int
    var intermediate: Int
    /// DINOv2 `mlp_ratio` (always set for DINOv2, nil for ViT).
    var mlpRatio: Int?
    var patchSize: Int
    var channels: Int
    var gridSide: Int
    var layerNormEps: Float
    var hiddenAct: String
    var qkvBias: Bool
    var swiGLU: Bool
    var pooler: Bool
    var inputSize: (height: Int, width: Int)?
    var prefix: [String]
    var weights: [String: WeightSource]
    var synthesized: [String]
    var keptNodes: Int
    var totalNodes: Int

    var imageSize: Int { gridSide * patchSize }
}
