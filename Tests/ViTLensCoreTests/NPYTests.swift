import Foundation
import Testing
@testable import ViTLensCore

@Suite struct NPYTests {
    @Test func float32RoundTrip() throws {
        let t = Tensor(shape: [2, 3], values: [1, -2, 3.5, 0, .pi, -0.25])
        let back = try NPY.decode(NPY.encode(float32: t.values, shape: t.shape), file: "x.npy")
        #expect(back.shape == [2, 3])
        #expect(back.floats == t.values)
        #expect(back.dtype == "<f4")
    }

    @Test func headerIsAlignedTo64() {
        let d = NPY.encode(int64: [1, 2, 3], shape: [3])
        #expect((d.count - 24) % 64 == 0)
        #expect(d[d.count - 25] == 0x0a)
    }

    @Test func int64AndScalarShapes() throws {
        let back = try NPY.decode(NPY.encode(int64: [101, -7], shape: [2]), file: "ids.npy")
        #expect(back.integers == [101, -7])
        let s = try NPY.decode(NPY.encode(float32: [4], shape: []), file: "s.npy")
        #expect(s.shape == [] && s.floats == [4])
    }

    @Test func rejectsGarbageAndTruncation() throws {
        #expect(throws: NPYError.notNPY(file: "g.npy")) { try NPY.decode(Data("hello world!".utf8), file: "g.npy") }
        let d = NPY.encode(float32: [1, 2, 3, 4], shape: [4])
        #expect(throws: NPYError.truncated(file: "t.npy", expectedBytes: 16, foundBytes: 8)) {
            try NPY.decode(d.prefix(d.count - 8), file: "t.npy")
        }
    }

    @Test func halfAndBFloat16Widening() {
        #expect(Float(halfBits: 0x3c00) == 1)
        #expect(Float(halfBits: 0xc000) == -2)
        #expect(Float(halfBits: 0x0001) == Float(sign: .plus, exponent: -24, significand: 1))
        #expect(Float(halfBits: 0x7c00) == .infinity)
        #expect(Float(bfloat16Bits: 0x3f80) == 1)
        #expect(Float(bfloat16Bits: 0xc040) == -3)
    }
}
