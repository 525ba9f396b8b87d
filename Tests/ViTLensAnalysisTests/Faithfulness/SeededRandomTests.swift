import Testing
import ViTLensAnalysis

/// The seeded generator behind random orders and weight shuffles.
@Suite struct SeededRandomTests {
    /// SplitMix64's published first output for seed 0 (Vigna's reference `splitmix64.c`).
    @Test func matchesReferenceSequence() {
        var g = SeededRandom(seed: 0)
        #expect(g.next() == 0xE220_A839_7B1D_CDAF)
    }

    @Test func shuffleIsReproduciblePermutation() {
        var a = SeededRandom(seed: 7), b = SeededRandom(seed: 7), c = SeededRandom(seed: 8)
        var x = Array(0 ..< 50), y = x, z = x
        a.shuffle(&x)
        b.shuffle(&y)
        c.shuffle(&z)
        #expect(x == y)
        #expect(x != z)
        #expect(x.sorted() == Array(0 ..< 50))
        #expect(x != Array(0 ..< 50))
    }
}
