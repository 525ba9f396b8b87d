import Foundation

/// A parsed JSON value, for headers and Hub replies whose structure is checked by hand so that
/// each defect gets its own message.
enum JSONValue: Decodable, Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? c.decode(Int.self) {
            self = .int(i)
        } else if let d = try? c.decode(Double.self) {
            self = .double(d)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([JSONValue].self) {
            self = .array(a)
        } else {
            self = .object(try c.decode([String: JSONValue].self))
        }
    }

    /// Parses `data`; the error's text is returned for messages.
    static func parse(_ data: Data) -> Result<JSONValue, ParseFailure> {
        do { return .success(try JSONDecoder().decode(JSONValue.self, from: data)) } catch {
            return .failure(ParseFailure(reason: Self.reason(error)))
        }
    }

    struct ParseFailure: Error { var reason: String }

    private static func reason(_ error: any Error) -> String {
        if case DecodingError.dataCorrupted(let context) = error {
            if let underlying = context.underlyingError {
                return "not valid JSON (\((underlying as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? context.debugDescription))"
            }
            return "not valid JSON (\(context.debugDescription))"
        }
        return "not valid JSON"
    }

    var string: String? { if case .string(let s) = self { return s } else { return nil } }
    var object: [String: JSONValue]? { if case .object(let o) = self { return o } else { return nil } }
    var array: [JSONValue]? { if case .array(let a) = self { return a } else { return nil } }
    var int: Int? { if case .int(let i) = self { return i } else { return nil } }

    /// A list of non-negative integers, or `nil`.
    var naturals: [Int]? {
        guard let a = array else { return nil }
        var out: [Int] = []
        out.reserveCapacity(a.count)
        for v in a {
            guard let i = v.int, i >= 0 else { return nil }
            out.append(i)
        }
        return out
    }
}
