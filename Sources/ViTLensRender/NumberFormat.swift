import Foundation

/// Locale-independent number formatting for labels and SVG coordinates.
public enum NumberFormat {
    /// `value` with `digits` significant digits, C's `%.<digits>g` (trailing zeros dropped, exponent
    /// form below 1e-4 or from 10^digits up), e.g. `0.0123`, `0.5`, `117`, `1.23e+03`; `-0` prints as `0`.
    public static func significant(_ value: Double, digits: Int = 3) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value > 0 ? "inf" : "-inf" }
        let s = String(format: "%.\(Swift.max(digits, 1))g", value)
        return s == "-0" ? "0" : s
    }

    /// `value` with exactly `decimals` digits after the point (C's `%.<decimals>f`); `-0.00` prints as `0.00`.
    public static func fixed(_ value: Double, decimals: Int = 2) -> String {
        let s = String(format: "%.\(Swift.max(decimals, 0))f", value)
        if s.hasPrefix("-"), s.dropFirst().allSatisfy({ $0 == "0" || $0 == "." }) { return String(s.dropFirst()) }
        return s
    }
}
