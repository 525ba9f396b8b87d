/// A problem with dataset statistics: a state file that does not hold what it should, or partial
/// results that cannot be combined. Each renders as one line.
public enum StatisticsError: Error, CustomStringConvertible, Equatable {
    /// Stored statistics that are inconsistent (lengths, counts, non-finite values).
    case corruptState(reason: String)
    /// Two accumulators of different shapes.
    case shapeMismatch(what: String)
    /// An image whose token layout differs from the run's first image.
    case layoutMismatch(expected: String, found: String)
    /// An outlier threshold that is not a finite number above 1.
    case badThreshold(Double)

    public var description: String {
        switch self {
        case .corruptState(let r): return "corrupt statistics state: \(r)"
        case .shapeMismatch(let w): return "statistics of different shapes: \(w)"
        case .layoutMismatch(let e, let f):
            return "token layout \(f) differs from the run's first image (\(e)); give --size HxW so every image has the same grid"
        case .badThreshold(let t): return "--outlier-threshold \(t): must be a finite number above 1 (a multiple of the median token norm)"
        }
    }
}
