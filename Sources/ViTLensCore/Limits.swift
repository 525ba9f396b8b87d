/// The sizes ViTLens accepts from files and flags, in one place (docs/RELIABILITY.md lists them).
///
/// Every size that comes from a file (config.json, preprocessor_config.json, an image header, a
/// `.npy` header) or a flag is checked against these bounds and with overflow-reporting arithmetic
/// before anything is allocated from it. The bounds sit far above every published checkpoint
/// (ViT-22B: hidden 6,144, 48 layers, 48 heads, MLP 24,576) and far below what would overflow.
public enum Limits {
    /// The largest image decoded, in pixels: Pillow's `DecompressionBombError` threshold
    /// (2 x `Image.MAX_IMAGE_PIXELS` = 178,956,970), so files Pillow refuses are refused here too.
    public static let maxImagePixels = 178_956_970
    /// The largest model input side in pixels (`--size`, processor `size`/`crop_size`).
    public static let maxInputSide = 16_384
    /// The largest `--threads`.
    public static let maxThreads = 1_024
    /// The largest `--grid` side and `--prefix-tokens` for saved attention arrays.
    public static let maxGridSide = 4_096
    /// Upper bounds of config.json integer fields (Hugging Face names); a larger value is refused at load.
    public static let configMaxima: [String: Int] = [
        "hidden_size": 65_536,
        "num_attention_heads": 4_096,
        "num_hidden_layers": 1_024,
        "intermediate_size": 1 << 20,
        "patch_size": 4_096,
        "num_channels": 64,
        "image_size": maxInputSide,
        "num_register_tokens": 4_096,
        "vocab_size": 1 << 24,
        "max_position_embeddings": 1 << 20,
        "type_vocab_size": 1 << 16,
    ]
    /// The largest DINOv2 `mlp_ratio`.
    public static let maxMLPRatio = 64.0

    /// The product of `factors`, or nil when it overflows `Int` (or a factor is negative).
    public static func product(_ factors: Int...) -> Int? { product(factors) }

    /// The product of `factors`, or nil when it overflows `Int` (or a factor is negative).
    public static func product(_ factors: [Int]) -> Int? {
        var p = 1
        for f in factors {
            guard f >= 0 else { return nil }
            let (r, overflow) = p.multipliedReportingOverflow(by: f)
            if overflow { return nil }
            p = r
        }
        return p
    }

    /// The sum of `terms`, or nil when it overflows `Int`.
    public static func sum(_ terms: Int...) -> Int? {
        var s = 0
        for t in terms {
            let (r, overflow) = s.addingReportingOverflow(t)
            if overflow { return nil }
            s = r
        }
        return s
    }
}
