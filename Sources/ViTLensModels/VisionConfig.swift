import ViTLensCheckpoint
import ViTLensCore

/// The fields every vision family reads: the ``EncoderConfig`` plus `patch_size`, `num_channels`,
/// `image_size` and (for families with a classifier) `id2label`, decoded once with the family's
/// Hugging Face defaults.
struct VisionConfig: Sendable {
    /// A family's Hugging Face defaults.
    struct Defaults: Sendable {
        var encoder: EncoderConfig.Defaults
        var patch: Int
        var imageSize: Int
        /// Whether the family reads `id2label` (families with classification heads).
        var labels = true
    }

    enum CodingKeys: String, CodingKey {
        case patchSize = "patch_size"
        case numChannels = "num_channels"
        case imageSize = "image_size"
        case id2label
    }

    let encoder: EncoderConfig
    let patch: Int
    let channels: Int
    let imageSize: Int
    /// Side of the square grid of patches the position table was trained on.
    let grid: Int
    /// `id2label` (empty when absent or not read).
    let labels: [Int: String]

    var file: String { encoder.file }

    /// Decodes and checks the fields at `decoder`.
    init(from decoder: any Decoder, defaults: Defaults) throws {
        encoder = try EncoderConfig(from: decoder, defaults: defaults.encoder)
        let c = try ConfigFields(decoder, CodingKeys.self)
        patch = try c.positiveInt(.patchSize, default: defaults.patch)
        channels = try c.positiveInt(.numChannels, default: 3)
        imageSize = try c.positiveInt(.imageSize, default: defaults.imageSize)
        grid = imageSize / patch
        guard grid > 0 else { throw c.invalid("image_size \(imageSize) is smaller than patch_size \(patch)") }
        labels = defaults.labels ? try c.labels(.id2label) : [:]
    }
}

/// Where a family keeps its patch projection and position table.
struct StemKeys: Sendable {
    /// The Conv2d module, e.g. `embeddings.patch_embeddings.projection`.
    var projection: String
    /// Whether the projection has a bias.
    var projectionBias: Bool
    /// The position table's key.
    var positions: String
    /// Whether the table is stored as `[1, tokens, hidden]` (a parameter) rather than
    /// `[tokens, hidden]` (an `nn.Embedding`).
    var batchedPositions: Bool

    /// ViT, DeiT, DINO and DINOv2.
    static let vit = StemKeys(projection: "embeddings.patch_embeddings.projection", projectionBias: true,
                              positions: "embeddings.position_embeddings", batchedPositions: true)
    /// CLIP's vision tower.
    static let clip = StemKeys(projection: "embeddings.patch_embedding", projectionBias: false,
                               positions: "embeddings.position_embedding.weight", batchedPositions: false)
    /// SigLIP's vision tower (CLIP's names, with a patch bias).
    static let siglip = StemKeys(projection: "embeddings.patch_embedding", projectionBias: true,
                                 positions: "embeddings.position_embedding.weight", batchedPositions: false)
}

extension VisionConfig {
    /// The embedding block: the family's prefix vectors (which get position embeddings), optional
    /// registers (which do not), the patch projection and (unless `positions` is false) the
    /// position table, taken from `store`.
    func embeddings(_ store: WeightStore, keys: StemKeys, prefix: [(kind: PrefixToken, vector: Param)],
                    registers: Param? = nil, preNorm: LayerNorm? = nil, positions: Bool = true) throws -> VisionEmbeddings {
        let d = encoder.hidden
        let w = try store.take("\(keys.projection).weight", shape: [d, channels, patch, patch])
        let bias = keys.projectionBias ? try store.param("\(keys.projection).bias", [d]) : nil
        let rows = prefix.count + grid * grid
        let table = try positions ? Param(store.take(keys.positions, shape: keys.batchedPositions ? [1, rows, d] : [rows, d]), shape: [rows, d]) : nil
        let k = channels * patch * patch
        let packed = LinearKernel.current == .packedAVX512
            ? Linear(weight: w, bias: bias.map { Array(UnsafeBufferPointer(start: $0.ptr, count: $0.count)) }, out: d, in: k, kernel: .packedAVX512)
            : nil
        return VisionEmbeddings(
            positioned: prefix, registers: registers, positions: table, positionGrid: grid,
            patchWeight: Param(w, shape: [d, k]), patchBias: bias, packedPatch: packed, patchSize: patch,
            channels: channels, preNorm: preNorm)
    }
}

extension WeightStore {
    /// Takes a learned token stored as `[1, 1, hidden]` (CLS, distillation) as a `[hidden]` vector.
    func token(_ key: String, hidden d: Int) throws -> Param {
        Param(try take(key, shape: [1, 1, d]), shape: [d])
    }
}

extension VisionConfig {
    /// The rest of a vision model around the family's embeddings: the encoder (`keys`, with
    /// `attentionBiases[layer]` where given), the final LayerNorm (`finalNorm`, on every token) or a `poolNorm`
    /// on the pooled vector only (CLIP's CLS, BEiT's patch mean: `poolInput`), the optional
    /// `pooler.dense` (`pooler`), the classification head `head` builds, which gets the
    /// `id2label` names, and SigLIP's attention `poolingHead`.
    func model(_ modelType: String, _ store: WeightStore, spec: EncoderSpec, keys: EncoderKeys, embeddings: VisionEmbeddings,
               attentionBiases: [AttentionBiasSource?] = [],
               finalNorm: String? = "layernorm", poolNorm: String? = nil, poolInput: PoolInput = .cls, pooler: Bool = false,
               head: (WeightStore) throws -> VisionHead? = { _ in nil }, poolingHead: AttentionPoolingHead? = nil) throws -> LoadedModel {
        let d = encoder.hidden
        let encoder = try Encoder(store, spec: spec, keys: keys, attentionBias: { $0 < attentionBiases.count ? attentionBiases[$0] : nil })
        let final = try finalNorm.map { try LayerNorm(store, $0, dim: d, eps: spec.eps) }
        let pool = try poolNorm.map { try LayerNorm(store, $0, dim: d, eps: spec.eps) }
        let dense = pooler && store.has("pooler.dense.weight") ? try Linear(store, "pooler.dense", out: d, in: d) : nil
        let classifier = try head(store)
        return .vision(VisionTransformer(modelType: modelType, imageSize: imageSize, labels: classifier == nil ? [:] : labels,
                                         embeddings: embeddings, encoder: encoder, finalNorm: final, poolNorm: pool, poolInput: poolInput,
                                         pooler: dense, head: classifier, poolingHead: poolingHead))
    }
}
