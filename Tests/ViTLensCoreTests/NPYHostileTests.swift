import Foundation
import Testing
@testable import ViTLensCore
import ViTLensTestSupport

/// `.npy` headers a hostile or broken file may carry, and the inputs the fuzzer (`Fuzz/NPY`)
/// turned up: each is one clean ``NPYError``, never a trap.
@Suite("NPY hostile headers")
struct NPYHostileTests {
    /// A version-1.0 `.npy` file with `header` verbatim (no padding) and `data` after it.
    static func npy(_ header: String, data: [UInt8] = []) -> Data {
        let h = Array(header.utf8)
        return Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(h.count & 0xff), UInt8(h.count >> 8)] + h + data)
    }

    @Test func duplicateKeysAreRefused() {
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'shape': (2,), }"
        #expect(throws: NPYError.duplicateKey(file: "d.npy", key: "shape")) { try NPY.decode(Self.npy(header, data: [0, 0, 0, 0]), file: "d.npy") }
        #expect(NPYError.duplicateKey(file: "d.npy", key: "shape").description == "d.npy: bad .npy header: key 'shape' appears twice")
        let descr = "{'descr': '<f4', \"descr\": '<f8', 'fortran_order': False, 'shape': (1,)}"
        #expect(throws: NPYError.duplicateKey(file: "d.npy", key: "descr")) { try NPY.decode(Self.npy(descr, data: [0, 0, 0, 0]), file: "d.npy") }
    }

    @Test func shapeWhoseProductOverflowsIsRefused() {
        // Found by the fuzzer: the element count trapped with "arithmetic overflow".
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }"
        #expect(throws: NPYError.badHeader(file: "o.npy", reason: "shape [4294967296, 4294967296] has more elements than fit in memory")) {
            try NPY.decode(Self.npy(header), file: "o.npy")
        }
        // The element count fits, the byte count does not.
        let bytes = "{'descr': '<f8', 'fortran_order': False, 'shape': (2305843009213693952,), }"
        #expect(throws: NPYError.badHeader(file: "o.npy", reason: "shape [2305843009213693952] of <f8 has more bytes than fit in memory")) {
            try NPY.decode(Self.npy(bytes), file: "o.npy")
        }
        let digits = "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }"
        #expect(throws: NPYError.badHeader(file: "o.npy", reason: "bad shape entry '99999999999999999999': too large")) {
            try NPY.decode(Self.npy(digits), file: "o.npy")
        }
    }

    @Test func firstFuzzerCrasher() throws {
        // Tests/Fixtures/fuzz/NPY: "'shape': (0000000000000000875934005170769464 8,)" trapped computing the byte count.
        let url = Fixtures.url("fuzz/NPY/shape-count-overflow.npy")
        #expect(throws: NPYError.badHeader(file: url.path, reason: "expected ':' after 'fortra{'")) { try NPY.read(url) }
    }

    @Test func shapeThatDoesNotMatchTheFileSizeIsRefused() throws {
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }"
        #expect(throws: NPYError.truncated(file: "s.npy", expectedBytes: 8, foundBytes: 4)) {
            try NPY.decode(Self.npy(header, data: [0, 0, 0, 0]), file: "s.npy")
        }
        #expect(throws: NPYError.trailingData(file: "s.npy", expectedBytes: 8, foundBytes: 12)) {
            try NPY.decode(Self.npy(header, data: [UInt8](repeating: 0, count: 12)), file: "s.npy")
        }
        #expect(NPYError.trailingData(file: "s.npy", expectedBytes: 8, foundBytes: 12).description
            == "s.npy: .npy data is 12 bytes but the header's shape and dtype describe 8 (extra data after the array)")
        // A zero-size array with no data is fine.
        let empty = try NPY.decode(Self.npy("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 5), }"), file: "e.npy")
        #expect(empty.shape == [0, 5] && empty.floats.isEmpty)
    }

    @Test(arguments: [
        ("{'descr': '<f4', 'fortran_order': False}", "no 'shape' entry"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': True}", "unexpected key 'extra' (NumPy headers hold exactly descr, fortran_order and shape)"),
        ("{'descr': 4, 'fortran_order': False, 'shape': (1,)}", "value of 'descr' is not a string, True, False or a tuple"),
        ("{'descr': '<f4', 'fortran_order': 'no', 'shape': (1,)}", "fortran_order is not True or False"),
        ("{'descr': '<f4', 'fortran_order': True, 'shape': (1,)}", "Fortran order is not supported"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}", "bad shape entry in 'shape': expected a non-negative integer"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (1 2)}", "bad shape in 'shape': expected ',' or ')'"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} x", "unexpected text after the dict"),
        ("{'descr: '<f4'}", "expected ':' after 'descr: '"),
        ("{'descr': '<f4", "unterminated string"),
        ("['descr']", "not a Python dict"),
    ])
    func malformedHeaders(header: String, reason: String) {
        #expect(throws: NPYError.badHeader(file: "m.npy", reason: reason)) { try NPY.decode(Self.npy(header, data: [0, 0, 0, 0]), file: "m.npy") }
    }

    @Test func headersNumPyWritesStillRead() throws {
        for header in ["{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }   \n",
                       "{\"descr\":\"<f4\",\"fortran_order\":False,\"shape\":(1,)}",
                       "{'shape': (1, ), 'fortran_order': False, 'descr': '<f4'}"] {
            let array = try NPY.decode(Self.npy(header, data: RawBytes.float32(1.5)), file: "ok.npy")
            #expect(array.shape == [1] && array.floats == [1.5])
        }
    }
}

private enum RawBytes {
    static func float32(_ v: Float) -> [UInt8] { withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
}
