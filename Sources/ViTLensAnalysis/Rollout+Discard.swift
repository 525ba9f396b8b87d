extension Rollout {
    /// Zeroes the smallest entries of a fused `n x n` matrix in place (ViTLens's discard variants).
    ///
    /// - ``DiscardMode/perRow``: in every row `i`, among the `n − 1` off-diagonal entries, the
    ///   `k = floor(r · (n − 1))` smallest are set to 0. The diagonal (hence CLS→CLS) is never touched.
    /// - ``DiscardMode/global``: among all `n²` entries except CLS→CLS (all `n²` when there is no CLS),
    ///   the `k = floor(r · count)` smallest are set to 0 (vit-explain's selection, without its
    ///   normalisation bug).
    ///
    /// Ties are broken as a stable ascending sort would: among equal values the one with the lower
    /// column (per row) or lower row-major index (global) is dropped first. Runs in `O(n²)` expected
    /// time (a three-way quickselect finds the k-th smallest value, then one pass zeroes).
    static func discard(_ m: UnsafeMutablePointer<Float>, n: Int, ratio: Double, mode: DiscardMode, cls: Int?,
                        scratch: UnsafeMutablePointer<Float>) {
        switch mode {
        case .perRow:
            for i in 0 ..< n { discardRow(m + i * n, diagonal: i, n: n, ratio: ratio, scratch: scratch) }
        case .global:
            let total = n * n
            let skip = cls.map { $0 * n + $0 } ?? -1
            let eligible = skip >= 0 ? total - 1 : total
            zeroSmallest(m, count: total, skip: skip, k: Int((ratio * Double(eligible)).rounded(.down)), scratch: scratch)
        }
    }

    /// Per-row discard of one row whose diagonal entry sits at column `i` (see ``discard``).
    static func discardRow(_ row: UnsafeMutablePointer<Float>, diagonal i: Int, n: Int, ratio: Double, scratch: UnsafeMutablePointer<Float>) {
        zeroSmallest(row, count: n, skip: i, k: Int((ratio * Double(n - 1)).rounded(.down)), scratch: scratch)
    }

    /// Sets the `k` smallest of `values[0..<count]`, except index `skip` (-1 for none), to 0; ties go
    /// to the lower index first, as a stable ascending sort would drop them.
    static func zeroSmallest(_ values: UnsafeMutablePointer<Float>, count: Int, skip: Int, k: Int, scratch: UnsafeMutablePointer<Float>) {
        guard k > 0 else { return }
        var c = 0
        for f in 0 ..< count where f != skip {
            scratch[c] = values[f]
            c += 1
        }
        let tau = select(scratch, count: c, k: k - 1)
        var less = 0
        for f in 0 ..< count where f != skip && values[f] < tau { less += 1 }
        var ties = k - less
        for f in 0 ..< count where f != skip {
            let x = values[f]
            if x < tau {
                values[f] = 0
            } else if x == tau && ties > 0 {
                values[f] = 0
                ties -= 1
            }
        }
    }

    /// The `k`-th smallest (zero-based) of `count` values, reordering them (three-way quickselect).
    static func select(_ a: UnsafeMutablePointer<Float>, count: Int, k: Int) -> Float {
        precondition(k >= 0 && k < count, "select: k out of range")
        var lo = 0
        var hi = count - 1
        while lo < hi {
            // Median of three as pivot.
            let x = a[lo], y = a[(lo + hi) / 2], z = a[hi]
            let pivot = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y))
            var lt = lo, i = lo, gt = hi
            while i <= gt {
                let v = a[i]
                if v < pivot {
                    a.swapAt(lt, i)
                    lt += 1
                    i += 1
                } else if v > pivot {
                    a.swapAt(i, gt)
                    gt -= 1
                } else {
                    i += 1
                }
            }
            if k < lt {
                hi = lt - 1
            } else if k > gt {
                lo = gt + 1
            } else {
                return pivot
            }
        }
        return a[lo]
    }
}

extension UnsafeMutablePointer {
    @inline(__always)
    fileprivate func swapAt(_ i: Int, _ j: Int) {
        let t = self[i]
        self[i] = self[j]
        self[j] = t
    }
}
