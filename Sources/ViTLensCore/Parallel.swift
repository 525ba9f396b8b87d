import Dispatch
import Foundation

/// How many threads ViTLens's own element-wise kernels use (BLAS has its own setting).
public enum Compute {
    nonisolated(unsafe) private static var _threads = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// Worker threads for element-wise kernels; defaults to the number of active processors.
    /// Set once at start-up (e.g. from `--threads`), not while a forward pass runs.
    public static var threads: Int {
        get { _threads }
        set { _threads = max(1, newValue) }
    }

    /// Runs `body(range)` over `0..<count` split into contiguous chunks, in parallel when the work
    /// is large enough (`count * costPerItem` above ~32k operations) and more than one thread is allowed.
    @inlinable
    public static func forEachChunk(_ count: Int, costPerItem: Int = 1, _ body: (Range<Int>) -> Void) {
        let workers = threads
        if workers <= 1 || count < 2 || count * costPerItem < 32_768 {
            body(0 ..< count)
            return
        }
        let chunks = min(count, workers * 2)
        let per = (count + chunks - 1) / chunks
        withoutActuallyEscaping(body) { escaping in
            nonisolated(unsafe) let run = escaping
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                let lo = c * per
                let hi = min(count, lo + per)
                if lo < hi { run(lo ..< hi) }
            }
        }
    }
}
