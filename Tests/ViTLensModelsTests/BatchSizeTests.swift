import Testing
import ViTLens

/// `--batch-size auto`: up to 8 images while their patches stay within 2,304 rows.
struct BatchSizeTests {
    @Test func automaticFollowsTheTokenCount() {
        #expect(BatchSize.automatic.images(tokens: 196) == 8)   // ViT-B/16 at 224
        #expect(BatchSize.automatic.images(tokens: 256) == 8)   // DINOv2 /14 at 224
        #expect(BatchSize.automatic.images(tokens: 576) == 4)   // ViT-B/16 at 384
        #expect(BatchSize.automatic.images(tokens: 1_024) == 2)
        #expect(BatchSize.automatic.images(tokens: 3_600) == 1) // DINO ViT-S/8 at 480
        #expect(BatchSize.automatic.images(tokens: 0) == 8)
        #expect(BatchSize.automatic.chunk == 8)
    }

    @Test func fixedIsWhatWasAsked() {
        let three: BatchSize = 3
        #expect(three == .fixed(3))
        #expect(three.images(tokens: 10_000) == 3)
        #expect(three.chunk == 3)
        #expect(BatchSize.fixed(0).images(tokens: 10) == 1)
        #expect("\(BatchSize.automatic)" == "auto")
        #expect("\(three)" == "3")
    }
}
