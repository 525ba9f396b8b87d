import ViTLensCheckpoint

/// The backbone of a DINO training checkpoint's `teacher` or `student` state dict
/// (`main_dino.py`'s `MultiCropWrapper`): the ViT's tensors under `backbone.` (the student's under
/// `module.backbone.`, from DistributedDataParallel), beside the DINO projection head (`head.*`).
/// Seen with the prefix removed; the head and anything else outside the prefix are not shown (no
/// attention analysis uses the projection head).
final class DINOBackboneStateDict: TensorSource, @unchecked Sendable {
    let base: any TensorSource
    let prefix: String
    let names: [String]

    /// The prefixes tried, in order.
    static let prefixes = ["backbone.", "module.backbone.", "module."]

    /// `source` itself when it has a `cls_token`, else its backbone under the first of ``prefixes``
    /// that holds one (else `source`, whose missing `cls_token` is then reported).
    static func unwrap(_ source: any TensorSource) -> any TensorSource {
        guard source.shape(of: "cls_token") == nil,
              let prefix = prefixes.first(where: { source.shape(of: "\($0)cls_token") != nil }) else { return source }
        return DINOBackboneStateDict(source, prefix: prefix)
    }

    private init(_ base: any TensorSource, prefix: String) {
        self.base = base
        self.prefix = prefix
        names = base.names.filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
    }

    var description: String { base.description }
    func shape(of name: String) -> [Int]? { base.shape(of: prefix + name) }
    func floats(_ name: String, requireFinite: Bool) throws -> [Float] { try base.floats(prefix + name, requireFinite: requireFinite) }
    func fileName(for name: String) -> String? { base.fileName(for: prefix + name) }
}
