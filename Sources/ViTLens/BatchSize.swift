/// Images per batched forward pass: a fixed number, or chosen per group from its token count.
///
/// Batching pays where one image's matrix products are short: at 197 tokens (ViT-B/16 at 224) a
/// batch of 8 ran 1.15x the images/s of one at a time (docs/PERFORMANCE.md), while at a few thousand
/// tokens each product is already long and a batch only multiplies the working memory.
/// ``automatic`` therefore takes up to ``automaticMaximum`` images while their tokens together stay
/// within ``automaticRows``: 8 images of ViT-B/16 or DINOv2 at 224, 1 of DINO ViT-S/8 at 480.
public enum BatchSize: Sendable, Equatable, ExpressibleByIntegerLiteral, CustomStringConvertible {
    /// Chosen per group of same-size images from their token count.
    case automatic
    /// Exactly this many images per pass (at least 1).
    case fixed(Int)

    /// Most images ``automatic`` puts in one pass.
    public static let automaticMaximum = 8
    /// Most rows (images x tokens) ``automatic`` puts in one pass.
    public static let automaticRows = 2_304

    public init(integerLiteral value: Int) { self = .fixed(value) }

    /// Images per pass for images of `tokens` tokens.
    public func images(tokens: Int) -> Int {
        switch self {
        case .fixed(let n): return max(1, n)
        case .automatic: return max(1, min(Self.automaticMaximum, Self.automaticRows / max(1, tokens)))
        }
    }

    /// Images to read ahead of a pass (the most a pass can take).
    public var chunk: Int {
        switch self {
        case .fixed(let n): return max(1, n)
        case .automatic: return Self.automaticMaximum
        }
    }

    public var description: String {
        switch self {
        case .fixed(let n): return "\(n)"
        case .automatic: return "auto"
        }
    }
}
