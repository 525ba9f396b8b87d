/// A deletion curve and an insertion curve of one patch order (or the mean of several), with their AUCs.
public struct FaithfulnessCurvePair: Sendable, Equatable, Codable {
    /// Deletion curve (lower AUC is better).
    public var deletion: FaithfulnessCurve
    /// Insertion curve (higher AUC is better).
    public var insertion: FaithfulnessCurve
    /// ``FaithfulnessCurve/auc`` of ``deletion``.
    public var deletionAUC: Double
    /// ``FaithfulnessCurve/auc`` of ``insertion``.
    public var insertionAUC: Double

    /// The pair, with both AUCs computed.
    public init(deletion: FaithfulnessCurve, insertion: FaithfulnessCurve) {
        self.deletion = deletion
        self.insertion = insertion
        deletionAUC = deletion.auc
        insertionAUC = insertion.auc
    }
}
