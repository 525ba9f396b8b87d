import ViTLensCore

/// The per-image statistics `vitlens stats` accumulates, each one value per image and cell.
///
/// `L` layers, `H` heads, `P` prefix tokens, `G` patches; "patch rows" are the `G` query rows of
/// the patches; `A = A_l[h]` is one head's `[N, N]` attention (rows = queries).
public enum StatisticKind: String, CaseIterable, Codable, Sendable {
    /// `[L, H]`: mean attention distance in pixels, prefix rows and columns dropped, rows not
    /// renormalised (the published definition, ``MeanAttentionDistance``).
    case meanAttentionDistance = "mean_attention_distance"
    /// `[L, H]`: the same with each patch row divided by its patch mass.
    case meanAttentionDistanceRenormalized = "mean_attention_distance_renormalized"
    /// `[L, H]`: mean over patch rows of the row entropy over all `N` keys, nats.
    case attentionEntropy = "attention_entropy"
    /// `[L, H]`: the CLS row's mass on the patches, `Σ_{j ≥ P} A[cls, j]` (models with CLS).
    case clsPatchMass = "cls_patch_mass"
    /// `[L, H]`: the CLS row's mass on the prefix tokens (itself included), `1 − cls_patch_mass`.
    case clsPrefixMass = "cls_prefix_mass"
    /// `[L, H, P]`: mass each prefix token receives, averaged over the patch rows:
    /// `(1/G) Σ_{i ≥ P} A[i, k]` (models with prefix tokens).
    case prefixMass = "prefix_mass"
    /// `[L, H]`: the sink share: `max_j (1/G) Σ_{i ≥ P} A[i, j]` over all `N` keys, the mean mass
    /// the patch rows put on the single key that receives the most (1/N for uniform attention).
    case sinkShare = "sink_share"
    /// `[L, H]`: the key index `j` of ``sinkShare``, as a fraction of images it is a prefix token
    /// (1 when the sink is always CLS or a register, 0 when always a patch).
    case sinkIsPrefix = "sink_is_prefix"
    /// `[L]`: mean L2 norm of the patch tokens in the output of block `l`.
    case tokenNormMean = "token_norm_mean"
    /// `[L]`: largest patch token norm.
    case tokenNormMax = "token_norm_max"
    /// `[L]`: the median patch token norm (the outlier threshold's unit).
    case tokenNormMedian = "token_norm_median"
    /// `[L]`: number of high-norm outlier patches (norm > threshold x median).
    case outlierCount = "outlier_count"
    /// `[L, P]`: the norm of each prefix token in the output of block `l`.
    case prefixTokenNorm = "prefix_token_norm"

    /// The cell shape for a model of `layers`, `heads` and `prefix` tokens.
    public func shape(layers: Int, heads: Int, prefix: Int) -> [Int] {
        switch self {
        case .prefixMass: return [layers, heads, prefix]
        case .tokenNormMean, .tokenNormMax, .tokenNormMedian, .outlierCount: return [layers]
        case .prefixTokenNorm: return [layers, prefix]
        default: return [layers, heads]
        }
    }

    /// Whether the statistic exists for `layout` (CLS statistics need a CLS token, prefix ones a prefix).
    public func applies(to layout: TokenLayout) -> Bool {
        switch self {
        case .clsPatchMass, .clsPrefixMass: return layout.clsIndex != nil
        case .prefixMass, .prefixTokenNorm: return layout.prefixCount > 0
        default: return true
        }
    }

    /// The statistics that exist for `layout`, in catalogue order.
    public static func all(for layout: TokenLayout) -> [StatisticKind] { allCases.filter { $0.applies(to: layout) } }
}
