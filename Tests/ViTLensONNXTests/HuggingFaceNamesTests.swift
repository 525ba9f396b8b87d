import Testing
@testable import ViTLensONNX

@Suite struct HuggingFaceNamesTests {
    /// The table built from ViTLensModels' key tables names the same modules as the table the
    /// importer carried before (transformers 4.x Hub keys of ViT and DINOv2, and 5.x renames).
    @Test func layerModulesFromTheModelKeyTables() {
        let expected: [String: LayerPart] = [
            "attention.attention.query": .query, "attention.q_proj": .query,
            "attention.attention.key": .key, "attention.k_proj": .key,
            "attention.attention.value": .value, "attention.v_proj": .value,
            "attention.output.dense": .attentionOutput, "attention.o_proj": .attentionOutput,
            "intermediate.dense": .fc1, "mlp.fc1": .fc1,
            "output.dense": .fc2, "mlp.fc2": .fc2,
            "layernorm_before": .norm1, "norm1": .norm1,
            "layernorm_after": .norm2, "norm2": .norm2,
            "layer_scale1": .layerScale1, "layer_scale2": .layerScale2,
            "mlp.weights_in": .swigluIn, "mlp.gate_proj": .swigluGate, "mlp.up_proj": .swigluUp,
            "mlp.weights_out": .swigluOut, "mlp.down_proj": .swigluOut,
        ]
        #expect(HuggingFaceNames.layerModules == expected)
        #expect(LayerPart.layerScale1.hubKey(.dinov2) == "layer_scale1.lambda1")
        #expect(LayerPart.fc1.hubKey(.vit) == "intermediate.dense" && LayerPart.fc1.hubKey(.dinov2) == "mlp.fc1")
    }

    /// The importer's mlp_ratio search and the DINOv2 family share one width rule.
    @Test func mlpRatioUsesTheFamilyWidthRule() {
        #expect(ImportedConfig.mlpRatio(hidden: 384, width: 1536, swiGLU: false) == 4)
        #expect(ImportedConfig.mlpRatio(hidden: 384, width: 1024, swiGLU: true) == 4)
        #expect(ImportedConfig.mlpRatio(hidden: 384, width: 1000, swiGLU: false) == nil)
    }
}
