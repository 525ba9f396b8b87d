import ViTLensCheckpoint
import ViTLensCore

/// A LayerNorm's `weight` and `bias`.
struct LayerNorm {
    let gamma: Param
    let beta: Param
    let eps: Float

    init(_ store: WeightStore, _ prefix: String, dim: Int, eps: Float) throws {
        gamma = try store.param("\(prefix).weight", [dim])
        beta = try store.param("\(prefix).bias", [dim])
        self.eps = eps
    }

    func callAsFunction(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        let t = OpProfile.start()
        Kernels.layerNorm(x, rows: rows, cols: gamma.count, gamma: gamma.ptr, beta: beta.ptr, eps: eps, out: y)
        OpProfile.stop(.layerNorm, t)
    }
}
