import Foundation
import ViTLens

/// Everything `vitlens serve` is told: where to listen, who may come in, and the limits.
public struct ServerConfiguration: Sendable {
    /// How attention is kept in the cache.
    public enum CachePrecision: String, Sendable, CaseIterable {
        /// float32 while the input uses at most a quarter of the budget, float16 while it fits, else partial.
        case automatic = "auto"
        /// Always float32 (partial when it does not fit).
        case float32
        /// Always float16 (error at most `max(2^-11·|a|, 2^-25)`).
        case float16
    }

    /// The address to bind: loopback unless the user names another.
    public var host = "127.0.0.1"
    /// The port; 0 picks a free one (the printed URL says which).
    public var port = 8642
    /// The access token; random by default.
    public var token = ServerConfiguration.randomToken()
    /// Host names accepted in the `Host` header beside the loopback names and ``host``.
    public var extraAllowedHosts: [String] = []
    /// Largest request body, bytes (413 above).
    public var maxUploadBytes = 32 << 20
    /// Largest image accepted, pixels (checked from the header before decoding).
    public var maxPixels = 40_000_000
    /// Memory for cached attention, bytes (least recently used inputs are dropped first).
    public var cacheBytes = 2 << 30
    public var cachePrecision = CachePrecision.automatic
    /// Most values one array answer may hold.
    public var maxAnswerValues = 1 << 24

    public init() {}

    /// The names the `Host` header may carry (without port).
    public var allowedHosts: Set<String> {
        var names: Set<String> = ["127.0.0.1", "localhost", "[::1]", "::1"]
        names.insert(host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host)
        for h in extraAllowedHosts { names.insert(h.lowercased()) }
        return names
    }

    /// Whether ``host`` is a loopback address.
    public var isLoopback: Bool { ["127.0.0.1", "localhost", "::1", "[::1]"].contains(host) || host.hasPrefix("127.") }

    /// 32 random bytes as hex, from the system's generator.
    public static func randomToken(bytes: Int = 24) -> String {
        var g = SystemRandomNumberGenerator()
        return (0 ..< bytes).map { _ in String(format: "%02x", UInt8.random(in: 0 ... 255, using: &g)) }.joined()
    }
}

/// A model the server offers, loaded once.
public struct ServedModel: Sendable {
    /// The id used in the API (`"0"`, `"1"`, ...).
    public let id: String
    /// A display name (the folder's name).
    public let name: String
    public let session: AnalysisSession

    public init(id: String, name: String, session: AnalysisSession) {
        self.id = id
        self.name = name
        self.session = session
    }
}
