import Foundation
import Testing
import ViTLensTestSupport
import ViTLensCore
@testable import ViTLensModels

/// The encoder keeps its last workspace for the next forward of the same shape. Its buffers then
/// hold the previous image's values, so results must not depend on them: image A after image B
/// gives A's first results bit for bit, and another shape gets buffers of its own.
@Suite struct WorkspaceReuseTests {
    static func run(_ model: VisionTransformer, _ pixels: Tensor) throws -> (attentions: [UInt32], logits: [UInt32], hidden: [UInt32]) {
        var recorder = AttentionRecorder(options: [.logits, .queries, .keys])
        let out = try model.forward(pixels, observer: &recorder)
        return (recorder.attentions.values.map(\.bitPattern), recorder.logits.values.map(\.bitPattern), out.hiddenState.values.map(\.bitPattern))
    }

    @Test(arguments: ["vit-p16-rocket-240x240", "dinov2-swiglu-hopper-native", "beit-rel-astronaut-48x80"])
    func reusedWorkspaceGivesTheSameBits(_ caseName: String) throws {
        let (model, a) = try BatchedForwardTests.model(caseName)
        let b = Tensor(shape: a.shape, values: a.values.map { 0.5 - 0.8 * $0 })
        let first = try Self.run(model, a)
        let kept = try #require(model.encoder.keptWorkspace)
        _ = try Self.run(model, b)
        #expect(model.encoder.keptWorkspace === kept, "the second forward of the same shape reuses the workspace")
        let again = try Self.run(model, a)
        #expect(again.attentions == first.attentions && again.logits == first.logits && again.hidden == first.hidden)

        // A batch is another shape: it gets (and then keeps) its own workspace; the single-image
        // shape after it starts fresh again and still gives the same bits.
        var observers = [NoObserver(), NoObserver()]
        _ = try model.forward(batch: [a, b], observers: &observers)
        #expect(model.encoder.keptWorkspace !== kept)
        #expect(model.encoder.keptWorkspace?.shape.images == 2)
        let afterBatch = try Self.run(model, a)
        #expect(afterBatch.attentions == first.attentions && afterBatch.hidden == first.hidden)
    }

    /// Workspaces above the limit (kept `[heads, N, N]` layers of long sequences) are released after
    /// their forward, not kept.
    @Test func largeWorkspacesAreNotKept() throws {
        let (model, a) = try BatchedForwardTests.model("vit-p16-rocket-240x240")
        _ = try Self.run(model, a)
        let kept = try #require(model.encoder.keptWorkspace)
        let big = Workspace(Workspace.Shape(tokens: 2_000, images: 1, hidden: 64, heads: 6, headDim: 16, ffWidth: 256, gateWidth: 0,
                                            options: [.logits], keepProbabilities: true))
        #expect(big.bytes > Encoder.keptWorkspaceBytes)
        model.encoder.recycle(big)
        #expect(model.encoder.keptWorkspace === kept)
    }
}
