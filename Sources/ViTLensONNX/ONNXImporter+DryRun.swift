import Foundation
import ViTLensCore

extension ONNXImporter {
    /// Runs the import's analysis on an already read model and converts every planned weight,
    /// without writing anything (used by the fuzz target `FuzzONNX`).
    /// - Returns: the number of weights the import would write.
    /// - Throws: ``ONNXError`` as ``importHuggingFace(from:to:overwrite:)`` does before writing.
    package static func dryRun(_ model: ONNXModel) throws -> Int {
        let plan = try BackboneAnalyzer(model).analyze()
        for (_, source) in plan.weights { _ = try source.materialize() }
        _ = ImportedConfig.config(plan)
        _ = ImportedConfig.json(ImportedConfig.processor(plan))
        return plan.weights.count
    }
}
