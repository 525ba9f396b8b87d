import Foundation

/// Tells Swift users, once per process, when ViTLens runs unoptimised.
///
/// A package that depends on ViTLens builds it in its own configuration, so `swift run` and
/// `swift test` give a debug (`-Onone`) ViTLens whose forward passes are about 20x slower (measured:
/// `analyze` at 448x448 on the real DINOv2-S/14, 5.6 s release, 124 s debug). Build with
/// `swift build -c release` / `swift run -c release`. Set `VITLENS_NO_DEBUG_WARNING=1` to silence it.
public enum BuildNotice {
    /// Whether this copy of ViTLens was compiled with optimisation.
    public static var isOptimized: Bool { !_isDebugAssertConfiguration() }

    nonisolated(unsafe) private static var warned = false
    private static let lock = NSLock()

    /// Prints the one-line warning on standard error the first time a model runs in a debug build.
    public static func warnIfUnoptimized() {
        guard !isOptimized else { return }
        lock.lock()
        defer { lock.unlock() }
        guard !warned else { return }
        warned = true
        guard ProcessInfo.processInfo.environment["VITLENS_NO_DEBUG_WARNING"] != "1" else { return }
        FileHandle.standardError.write(Data(("ViTLens: running a debug (unoptimised) build, about 20x slower than release; "
            + "build with `swift build -c release` (or `swift run -c release`). VITLENS_NO_DEBUG_WARNING=1 silences this.\n").utf8))
    }
}
