import Foundation

/// Timeouts and the size cap for Hub downloads, read from the environment.
///
/// - `HF_HUB_ETAG_TIMEOUT` (seconds, default 10): how long a metadata request (the
///   `api/models/.../revision/main` call) may wait for the connection and for each piece of the reply.
/// - `HF_HUB_DOWNLOAD_TIMEOUT` (seconds, default 10): the same for file transfers: a transfer that
///   receives nothing for this long is aborted (a slow transfer that keeps receiving is not).
/// - `VITLENS_MAX_DOWNLOAD_BYTES` (bytes, default 64 GiB): the largest single file accepted. A file
///   whose `Content-Length` announces more is refused before its body is read; a body that grows
///   past the cap (or past its announced length) is aborted.
///
/// The two timeout variables have huggingface_hub's names and defaults; as there, they apply to
/// connecting and to each wait for data, not to the whole transfer. Values must be positive numbers
/// (huggingface_hub reads integers; fractions such as `0.5` are accepted here too).
struct DownloadLimits: Sendable, Equatable {
    /// The default of both timeouts, in seconds (huggingface_hub's `DEFAULT_ETAG_TIMEOUT` and
    /// `DEFAULT_DOWNLOAD_TIMEOUT`).
    static let defaultTimeout: TimeInterval = 10
    /// The default size cap of one file: 64 GiB.
    static let defaultMaxBytes = 64 << 30
    /// The most a reply kept in memory (JSON metadata) may hold: 64 MiB.
    static let maxMemoryBytes = 64 << 20

    /// Seconds a metadata request may wait for data.
    var etagTimeout: TimeInterval = defaultTimeout
    /// Seconds a file transfer may wait for data.
    var downloadTimeout: TimeInterval = defaultTimeout
    /// The largest single file, in bytes.
    var maxBytes: Int = defaultMaxBytes

    init() {}

    /// Reads the three variables from `environment`; unset or empty ones keep their defaults.
    /// - Throws: ``CheckpointError/invalidEnvironment(variable:value:expected:)`` for a value
    ///   that is not a positive number (or, for the size, a positive integer).
    init(environment: [String: String]) throws {
        etagTimeout = try Self.seconds("HF_HUB_ETAG_TIMEOUT", environment) ?? Self.defaultTimeout
        downloadTimeout = try Self.seconds("HF_HUB_DOWNLOAD_TIMEOUT", environment) ?? Self.defaultTimeout
        let name = "VITLENS_MAX_DOWNLOAD_BYTES"
        if let text = Self.value(name, environment) {
            guard let bytes = Int(text), bytes > 0 else {
                throw CheckpointError.invalidEnvironment(variable: name, value: text, expected: "a positive whole number of bytes")
            }
            maxBytes = bytes
        }
    }

    private static func value(_ name: String, _ environment: [String: String]) -> String? {
        guard let text = environment[name]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        return text
    }

    private static func seconds(_ name: String, _ environment: [String: String]) throws -> TimeInterval? {
        guard let text = value(name, environment) else { return nil }
        guard let seconds = Double(text), seconds.isFinite, seconds > 0, seconds <= 86_400 else {
            throw CheckpointError.invalidEnvironment(variable: name, value: text, expected: "a positive number of seconds (at most 86400)")
        }
        return seconds
    }

    /// `64 GiB`-style sizes for messages.
    static func formatBinary(_ bytes: Int) -> String {
        let units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        if unit == 0 { return "\(bytes) bytes" }
        return value == value.rounded() ? "\(Int(value)) \(units[unit])" : String(format: "%.1f %@", value, units[unit])
    }
}
