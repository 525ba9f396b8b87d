import Foundation

/// The fixed bins of the token-norm histograms, chosen before any data so that histograms of
/// shards add up exactly to the single run's.
///
/// 20 bins per decade on a log scale from 10⁻² to 10⁴ (120 bins; each about 12% wide, finer than
/// the spread of a layer's norms), plus an underflow bin `[0, 0.01)` first and an overflow bin
/// `[10⁴, ∞)` last: ``count`` = 122. Bin `k` (1 ... 120) is `[10^(−2 + (k−1)/20), 10^(−2 + k/20))`.
/// Token norms of ViTs lie between about 0.1 and a few thousand (the high-norm tokens of Darcet et
/// al. 2024 reach a few hundred), well inside the range.
public enum TokenNormHistogram {
    /// Bins per decade.
    public static let binsPerDecade = 20
    /// log10 of the lowest regular edge.
    public static let lowestDecade = -2
    /// log10 of the highest regular edge.
    public static let highestDecade = 4
    /// Number of bins, underflow and overflow included.
    public static let count = (highestDecade - lowestDecade) * binsPerDecade + 2

    /// The bin of `norm` (`0 ..< count`); NaN goes to the overflow bin (it never reaches here: the
    /// forward pass refuses non-finite activations).
    public static func bin(_ norm: Double) -> Int {
        let position = (Foundation.log10(norm) - Double(lowestDecade)) * Double(binsPerDecade)
        if position.isNaN || position >= Double(count) { return count - 1 }
        if position < 0 { return 0 }
        return Swift.min(Int(position.rounded(.down)) + 1, count - 1)
    }

    /// The lower edge of bin `k` (0 for the underflow bin).
    public static func lowerEdge(_ k: Int) -> Double {
        k == 0 ? 0 : Foundation.pow(10, Double(lowestDecade) + Double(k - 1) / Double(binsPerDecade))
    }

    /// The upper edge of bin `k` (infinity for the overflow bin).
    public static func upperEdge(_ k: Int) -> Double {
        k >= count - 1 ? .infinity : Foundation.pow(10, Double(lowestDecade) + Double(k) / Double(binsPerDecade))
    }
}

/// High-norm outlier tokens (Darcet et al., "Vision Transformers Need Registers", ICLR 2024).
///
/// The paper separates the artifact tokens of DINOv2 ViT-g by an absolute norm of 150 at the last
/// layer, where ordinary patch tokens sit far below; an absolute cut depends on the model's width and
/// layer. ViTLens uses a relative one: in one image and layer, a patch token is an outlier when its L2
/// norm exceeds `threshold` times the **median** patch norm of that image and layer. The median is
/// unmoved by the outliers themselves (they are a few per cent of the tokens in the paper). The
/// default 4 sits between the spread of ordinary tokens (well within 2x the median) and the
/// artifacts (about 10x the median in the paper's bimodal histograms).
public enum TokenNormOutliers {
    /// The default threshold, a multiple of the median patch norm.
    public static let defaultThreshold = 4.0

    /// The median of `norms` (the mean of the two middle values for an even count; 0 when empty).
    public static func median(_ norms: [Double]) -> Double {
        guard !norms.isEmpty else { return 0 }
        let s = norms.sorted()
        let m = s.count / 2
        return s.count % 2 == 1 ? s[m] : (s[m - 1] + s[m]) / 2
    }

    /// Indices of `norms` above `threshold x median(norms)`, ascending.
    public static func detect(_ norms: [Double], threshold: Double) -> [Int] {
        let cut = threshold * median(norms)
        return norms.indices.filter { norms[$0] > cut }
    }
}
