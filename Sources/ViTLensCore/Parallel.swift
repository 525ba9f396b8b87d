import Dispatch
import CViTLensSystem
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

    /// Runs `body(worker, item)` for every item of `0..<count` on up to `workers` threads; each
    /// thread takes the next item from a shared counter (so a slow thread takes fewer items) and
    /// passes its own `worker` index in `0..<min(workers, count)`, for per-thread scratch memory.
    /// Runs on the calling thread alone when one worker suffices.
    public static func forEachItem(_ count: Int, workers: Int, _ body: (_ worker: Int, _ item: Int) -> Void) {
        let w = min(max(1, workers), count)
        guard w > 1 else {
            for i in 0 ..< count { body(0, i) }
            return
        }
        let counter = UnsafeMutablePointer<CLong>.allocate(capacity: 1)
        counter.initialize(to: 0)
        defer { counter.deallocate() }
        nonisolated(unsafe) let next = counter
        withoutActuallyEscaping(body) { escaping in
            nonisolated(unsafe) let run = escaping
            DispatchQueue.concurrentPerform(iterations: w) { worker in
                while true {
                    let i = Int(vitlens_fetch_increment(next))
                    if i >= count { break }
                    run(worker, i)
                }
            }
        }
    }
}
