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

    /// Parses `data` strictly (no trailing commas or garbage); on failure the reason names the
    /// defect and its position where Foundation reports one.
    static func parse(_ data: Data) -> Result<JSONValue, ParseFailure> {
        do { return .success(try JSONDecoder().decode(JSONValue.self, from: data)) } catch {
            return .failure(ParseFailure(reason: detail(data)))
        }
    }

    struct ParseFailure: Error { var reason: String }

    /// "not valid JSON (Unexpected end of file during JSON parse.)": `JSONSerialization` describes
    /// where parsing stopped, `JSONDecoder` does not.
    private static func detail(_ data: Data) -> String {
        do { _ = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) } catch {
            if let text = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String {
                return "not valid JSON (\(text))"
            }
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
