import Foundation
import Testing
import ViTLens
import ViTLensTestSupport

/// Swift users in debug builds are told once, on stderr, that ViTLens runs unoptimised.
@Suite struct BuildNoticeTests {
    @Test func debugBuildWarnsOnceAndCanBeSilenced() throws {
        let vit = Fixtures.url("models/vit-p16-cls").path
        let out = CLI.temporaryDirectory("notice").appendingPathComponent("o").path
        // Two forward passes (two images) in one process: one warning.
        let r = try CLI.run(["distance", "photos/rocket.jpg", "photos/grace_hopper.jpg", "--model", vit, "--out", out, "-q"],
                            environment: ["VITLENS_NO_DEBUG_WARNING": "0"])
        #expect(r.status == 0)
        let warnings = r.errorLines.filter { $0.hasPrefix("ViTLens: running a debug (unoptimised) build") }
        #expect(warnings.count == (BuildNotice.isOptimized ? 0 : 1), "\(r.stderr)")
        let quiet = try CLI.run(["distance", "photos/rocket.jpg", "--model", vit, "--out", out, "-q"])
        #expect(quiet.errorLines.isEmpty, "\(quiet.stderr)")
    }
}
