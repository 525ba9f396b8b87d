/// A request the explorer refuses, with the HTTP status it maps to (docs/API.md, "Errors").
public enum ExplorerError: Error, CustomStringConvertible, Equatable {
    /// 400: a parameter or body is wrong.
    case badRequest(String)
    /// 404: no such input, model or file.
    case notFound(String)
    /// 409: the input was dropped from the cache.
    case evicted(String)

    public var description: String {
        switch self {
        case .badRequest(let m), .notFound(let m): return m
        case .evicted(let id): return "input \(id) was dropped from the cache (least recently used); upload it again"
        }
    }
}
