import Foundation

/// The number and time formats of ``ProgressBar``: decimal byte sizes, rates and `m:ss` durations.
public enum ProgressFormat {
    /// `512 B`, `12.3 kB`, `88.2 MB`, `1.50 GB` (decimal units, as the Hub shows sizes).
    public static func bytes(_ n: Int) -> String {
        let v = Double(n)
        if n >= 1_000_000_000 { return String(format: "%.2f GB", v / 1e9) }
        if n >= 1_000_000 { return String(format: "%.1f MB", v / 1e6) }
        if n >= 1000 { return String(format: "%.1f kB", v / 1e3) }
        return "\(n) B"
    }

    /// A duration as `m:ss`, or `h:mm:ss` from one hour on (rounded down to whole seconds).
    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds > 0 else { return "0:00" }
        let s = Int(min(seconds, 359_999_999))
        let (h, m, r) = (s / 3600, (s / 60) % 60, s % 60)
        return h > 0 ? String(format: "%d:%02d:%02d", h, m, r) : String(format: "%d:%02d", m, r)
    }

    /// Items per second with two significant-ish digits: `0.42`, `3.1`, `27`.
    public static func rate(_ perSecond: Double) -> String {
        if perSecond >= 10 { return String(format: "%.0f", perSecond) }
        if perSecond >= 1 { return String(format: "%.1f", perSecond) }
        return String(format: "%.2f", perSecond)
    }

    /// `name` cut to at most `limit` characters, keeping its end (where file names differ) after `...`.
    public static func truncated(_ name: String, to limit: Int) -> String {
        guard name.count > limit else { return name }
        guard limit > 3 else { return String(name.suffix(max(0, limit))) }
        return "..." + name.suffix(limit - 3)
    }
}
