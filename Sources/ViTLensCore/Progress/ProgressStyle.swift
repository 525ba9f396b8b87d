import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a ``ProgressBar`` shows itself: a redrawn bar, one plain line per finished item, or nothing.
public enum ProgressStyle: Sendable, Equatable {
    /// One line redrawn in place with `\r` (a terminal).
    case bar
    /// One plain line per finished item, no control characters (logs, CI).
    case lines
    /// Nothing at all (`--quiet`, `VITLENS_PROGRESS=never`).
    case silent

    /// The environment variable that overrides the terminal test: `always`, `never` or `auto`.
    public static let variable = "VITLENS_PROGRESS"

    /// The style for a run: nothing when `quiet`; else `VITLENS_PROGRESS` decides (`always`: the bar,
    /// `never`: nothing, `auto` or unset: the bar when standard error is a terminal, lines otherwise).
    /// - Parameters:
    ///   - quiet: `--quiet` was given.
    ///   - environment: where `VITLENS_PROGRESS` is read (default: the process's).
    ///   - isTerminal: whether standard error is a terminal (default: `isatty(2)`).
    /// - Throws: ``ProgressSettingError`` for any other value of `VITLENS_PROGRESS`.
    public static func resolve(quiet: Bool, environment: [String: String] = ProcessInfo.processInfo.environment,
                               isTerminal: Bool = isatty(STDERR_FILENO) != 0) throws -> ProgressStyle {
        let value = environment[variable]?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        let setting: ProgressStyle?
        switch value {
        case "always": setting = .bar
        case "never": setting = .silent
        case "auto", "": setting = nil
        default: throw ProgressSettingError(value: environment[variable] ?? "")
        }
        if quiet { return .silent }
        return setting ?? (isTerminal ? .bar : .lines)
    }
}

/// `VITLENS_PROGRESS` holds something other than `always`, `never` or `auto`.
public struct ProgressSettingError: Error, CustomStringConvertible, Equatable {
    /// The value found.
    public var value: String

    public init(value: String) { self.value = value }

    public var description: String {
        "\(ProgressStyle.variable) must be always, never or auto, got '\(value.prefix(40))'"
    }
}
