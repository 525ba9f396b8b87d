import Foundation
import Testing
@testable import ViTLensCore

/// The BLAS door: the library loads at first use with kernels the CPU supports, and products are right.
struct BLASTests {
    @Test func loadsAndMultiplies() throws {
        try BLAS.load()
        // [2, 3] x [3, 2] with a transposed B stored [2, 3].
        let a: [Float] = [1, 2, 3, 4, 5, 6]
        let b: [Float] = [1, 0, -1, 2, 1, 0]
        var c = [Float](repeating: 7, count: 4)
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    BLAS.sgemm(transB: true, m: 2, n: 2, k: 3, a: pa.baseAddress!, lda: 3, b: pb.baseAddress!, ldb: 3,
                               c: pc.baseAddress!, ldc: 2)
                }
            }
        }
        #expect(c == [-2, 4, -2, 13])
    }

    /// On a CPU with AVX2 or AVX-512, OpenBLAS runs the kernels those call for, not its SSE3
    /// fallback (Debian's 0.3.21 picks Prescott on Xeons it does not know). Skipped when the user
    /// chose the kernels through the environment.
    @Test func kernelsMatchTheCPU() throws {
        let env = ProcessInfo.processInfo.environment
        guard env["OPENBLAS_CORETYPE"] == nil || BLAS.description.contains("set by ViTLens"),
              env["VITLENS_BLAS_CORETYPE"] == nil, env["VITLENS_BLAS_LIBRARY"] == nil else { return }
        guard let recommended = BLAS.recommendedCoreType, let core = BLAS.coreName else { return }
        #expect(core.lowercased() == recommended.lowercased(), "OpenBLAS runs \(core), the CPU supports \(recommended)")
        #expect(!core.lowercased().contains("prescott"))
        #expect(BLAS.description.contains(core))
    }

    @Test func threadsRoundTrip() throws {
        let saved = BLAS.threads
        defer { BLAS.setThreads(saved) }
        BLAS.setThreads(1)
        #expect(BLAS.threads == 1)
        BLAS.setThreads(0)
        #expect(BLAS.threads == 1)
    }
}
