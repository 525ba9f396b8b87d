import ViTLens

/// A route's query-string parameters, read strictly: unknown names, repeated names and values that
/// do not parse are 400 errors naming the parameter.
struct QueryParameters: Sendable {
    private let values: [String: String]

    /// - Throws: ``ExplorerError/badRequest(_:)`` for a name outside `allowed` (with `token` always allowed).
    init(_ pairs: [(String, String)], allowed: Set<String>) throws {
        var v: [String: String] = [:]
        for (k, value) in pairs where k != "token" {
            guard allowed.contains(k) else {
                throw ExplorerError.badRequest("unknown parameter '\(Self.clip(k))'; this route takes: \(allowed.sorted().joined(separator: ", "))")
            }
            guard v[k] == nil else { throw ExplorerError.badRequest("parameter '\(k)' is given twice") }
            v[k] = value
        }
        values = v
    }

    subscript(_ name: String) -> String? { values[name] }

    func int(_ name: String, default d: Int) throws -> Int {
        guard let s = values[name] else { return d }
        guard let i = Int(s) else { throw ExplorerError.badRequest("\(name) must be an integer, got '\(Self.clip(s))'") }
        return i
    }

    func double(_ name: String, default d: Double, in range: ClosedRange<Double>) throws -> Double {
        guard let s = values[name] else { return d }
        guard let x = Double(s), x.isFinite, range.contains(x) else {
            throw ExplorerError.badRequest("\(name) must be a number in [\(range.lowerBound), \(range.upperBound)], got '\(Self.clip(s))'")
        }
        return x
    }

    func bool(_ name: String) throws -> Bool {
        switch values[name] {
        case nil, "false", "0": return false
        case "true", "1": return true
        case let s?: throw ExplorerError.badRequest("\(name) must be true or false, got '\(Self.clip(s))'")
        }
    }

    /// One of `choices` (default `d`).
    func choice(_ name: String, _ choices: [String], default d: String) throws -> String {
        guard let s = values[name] else { return d }
        guard choices.contains(s) else {
            throw ExplorerError.badRequest("\(name) must be one of \(choices.joined(separator: ", ")), got '\(Self.clip(s))'")
        }
        return s
    }

    /// `HxW` sizes.
    func size(_ name: String) throws -> (height: Int, width: Int)? {
        guard let s = values[name] else { return nil }
        let parts = s.lowercased().split(separator: "x", omittingEmptySubsequences: false)
        guard parts.count == 2, let h = Int(parts[0]), let w = Int(parts[1]), h > 0, w > 0,
              h <= Limits.maxInputSide, w <= Limits.maxInputSide else {
            throw ExplorerError.badRequest("\(name) must be HxW with sides from 1 to \(Limits.maxInputSide), got '\(Self.clip(s))'")
        }
        return (h, w)
    }

    /// A user value cut to 64 characters for messages (never echo a huge parameter back).
    static func clip(_ s: String) -> String {
        let flat = String(s.unicodeScalars.map { $0.properties.generalCategory == .control ? "?" : Character($0) })
        return flat.count > 64 ? String(flat.prefix(64)) + "..." : flat
    }
}

/// A query as the API names it: `cls`, an index, `patch:R,C`, `pixel:X,Y`, `all` or `mean-patches`.
enum QueryChoice: Equatable {
    /// CLS, or token 0 without one (the parameter left out).
    case automatic
    /// `cls` named: an error on layouts without a CLS token.
    case cls
    case one(QuerySpec)
    case all
    case meanOfPatches

    init(_ text: String?) throws {
        guard let text else { self = .automatic; return }
        switch text {
        case "cls": self = .cls
        case "all": self = .all
        case "mean-patches": self = .meanOfPatches
        default:
            if let i = Int(text) { self = .one(.token(i)); return }
            let parts = text.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { throw Self.bad(text) }
            let xy = parts[1].split(separator: ",", omittingEmptySubsequences: false)
            guard xy.count == 2, let a = Int(xy[0]), let b = Int(xy[1]) else { throw Self.bad(text) }
            switch parts[0] {
            case "patch": self = .one(.patch(row: a, column: b))
            case "pixel": self = .one(.pixel(x: a, y: b))
            default: throw Self.bad(text)
            }
        }
    }

    static func bad(_ text: String) -> ExplorerError {
        .badRequest("query must be cls, a token index, patch:R,C, pixel:X,Y or all, got '\(QueryParameters.clip(text))'")
    }

    /// The single query this choice names in `layout`.
    func token(in layout: TokenLayout, input: String) throws -> TokenQuery {
        switch self {
        case .automatic: return try QuerySpec.automatic.resolve(in: layout, input: input)
        case .cls: return .cls
        case .one(let spec): return try spec.resolve(in: layout, input: input)
        case .all: throw ExplorerError.badRequest("query=all is not available here; name one query")
        case .meanOfPatches: throw ExplorerError.badRequest("query=mean-patches is for rollout only")
        }
    }

    /// The sequence indices this choice names in `layout` (all tokens for `.all`); with one
    /// `layer`, CLS names the attention pooling probe's row there (SigLIP's last layer).
    func indices(in layout: TokenLayout, input: String, layer: Int? = nil) throws -> [Int] {
        if self == .all { return Array(0 ..< layout.tokenCount) }
        let query = try token(in: layout, input: input)
        return [try layer.map { try query.index(in: layout, layer: $0) } ?? query.index(in: layout)]
    }
}
