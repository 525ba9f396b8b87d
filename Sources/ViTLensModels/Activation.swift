import ViTLensCheckpoint
import ViTLensCore

/// The MLP's non-linearity (`hidden_act`).
public enum Activation: String, Sendable, Equatable {
    /// Exact erf GELU (`gelu`).
    case gelu
    /// Tanh-approximated GELU (`gelu_new`, `gelu_pytorch_tanh`, `gelu_fast`).
    case geluTanh
    /// CLIP's `quick_gelu`, `x * sigmoid(1.702 x)`.
    case quickGELU
    /// `relu`.
    case relu

    /// Maps a Hugging Face `hidden_act` string.
    /// - Throws: `ModelError.configInvalid` for activations ViTLens does not implement.
    public init(huggingFace name: String, file: String) throws {
        switch name {
        case "gelu": self = .gelu
        case "gelu_new", "gelu_pytorch_tanh", "gelu_fast": self = .geluTanh
        case "quick_gelu": self = .quickGELU
        case "relu": self = .relu
        default: throw ModelError.configInvalid(file: file, reason: "hidden_act '\(name)' is not supported (gelu, gelu_new, gelu_pytorch_tanh, quick_gelu, relu)")
        }
    }

    /// Applies the non-linearity to `x[0 ..< count]` in place.
    func apply(_ x: UnsafeMutablePointer<Float>, count: Int) {
        let t = OpProfile.start()
        defer { OpProfile.stop(.activation, t) }
        switch self {
        case .gelu: Kernels.gelu(x, count: count)
        case .geluTanh: Kernels.geluTanh(x, count: count)
        case .quickGELU: Kernels.quickGELU(x, count: count)
        case .relu: Kernels.relu(x, count: count)
        }
    }
}
