/// A faithfulness or sanity-check input that cannot be used: one line each.
public enum FaithfulnessError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The explanation map's shape is not the model input's patch grid.
    case mapShape(found: [Int], expected: [Int])
    /// A map value is NaN or infinite.
    case nonFiniteMap(index: Int)
    /// Fewer than one step, or more steps than patches.
    case steps(Int, patches: Int)
    /// The pixel tensor is not `[channels, H, W]` with at least one whole patch.
    case pixelShape([Int], patchSize: Int)
    /// A blur radius below 1.
    case blurRadius(Int)
    /// Fewer than one random order.
    case randomOrders(Int)
    /// Two vectors to correlate have different lengths or fewer than two values.
    case correlationLength(Int, Int)
    /// A vector to correlate holds NaN or infinity.
    case nonFiniteCorrelation
    /// A vector to correlate is constant, so its rank correlation is undefined.
    case constantRanks
    /// A patch order that is not a permutation of `0 ..< patches`.
    case order(patches: Int)
    /// A model-randomisation layer count outside `1 ... layers`.
    case randomizedLayers(Int, layers: Int)
    /// The evaluated target was NaN or infinite after `step` steps.
    case nonFiniteTarget(step: Int)

    /// One line describing the problem.
    public var description: String {
        switch self {
        case .mapShape(let f, let e): return "the explanation map has shape \(f), the input's patch grid is \(e)"
        case .nonFiniteMap(let i): return "the explanation map holds NaN or infinity at index \(i)"
        case .steps(let s, let p): return "steps must be between 1 and the number of patches (\(p)), got \(s)"
        case .pixelShape(let s, let p): return "the pixels have shape \(s): expected [channels, H, W] with H and W at least the patch size \(p)"
        case .blurRadius(let r): return "the blur radius must be at least 1, got \(r)"
        case .randomOrders(let k): return "the random baseline needs at least one order, got \(k)"
        case .correlationLength(let a, let b): return "rank correlation needs two vectors of the same length of at least 2, got \(a) and \(b)"
        case .nonFiniteCorrelation: return "a vector to correlate holds NaN or infinity"
        case .constantRanks: return "a vector to correlate is constant, so its rank correlation is undefined"
        case .order(let p): return "a patch order must list every patch 0...\(p - 1) once"
        case .randomizedLayers(let k, let l): return "the number of randomised layers must be between 1 and the model's \(l) layers, got \(k)"
        case .nonFiniteTarget(let s): return "the target is NaN or infinite after \(s) perturbation steps"
        }
    }
}
