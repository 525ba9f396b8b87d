import Foundation
import ViTLensCheckpoint
import ViTLensCore

/// Typed access to a Hugging Face `config.json`, with Hugging Face's defaults and one-line errors
/// that name the file and the field.
public struct ConfigReader: @unchecked Sendable {
    /// The file the values came from (for messages).
    public let file: String
    /// The decoded JSON object.
    public let values: [String: Any]

    /// Reads and parses `url`.
    /// - Throws: `CheckpointError.fileNotFound` or `.configInvalid` naming the file.
    public init(contentsOf url: URL) throws {
        file = url.path
        let data: Data
        do { data = try UserFile.read(url.path) } catch { throw CheckpointError.file(url.path, error) }
        guard let obj = try? JSONSerialization.jsonObject(with: data), let dict = obj as? [String: Any] else {
            throw CheckpointError.configInvalid(file: url.path, reason: "not a JSON object")
        }
        values = dict
    }

    /// Wraps an already decoded object (e.g. the `vision_config` of a CLIP config).
    public init(values: [String: Any], file: String) {
        self.values = values
        self.file = file
    }

    /// A nested object, e.g. `vision_config`.
    public func nested(_ key: String) throws -> ConfigReader? {
        guard let v = values[key], !(v is NSNull) else { return nil }
        guard let d = v as? [String: Any] else { throw CheckpointError.configInvalid(file: file, reason: "'\(key)' is not an object") }
        return ConfigReader(values: d, file: file)
    }

    /// Whether the field is present and not null.
    public func has(_ key: String) -> Bool { values[key] != nil && !(values[key] is NSNull) }

    /// A required string.
    public func string(_ key: String) throws -> String {
        guard has(key) else { throw CheckpointError.configMissingField(file: file, field: key) }
        guard let s = values[key] as? String else { throw CheckpointError.configInvalid(file: file, reason: "'\(key)' is not a string") }
        return s
    }

    /// A string with a default.
    public func string(_ key: String, default d: String) throws -> String { has(key) ? try string(key) : d }

    /// A required integer (a JSON number without fraction; `true`/`false` are not integers).
    public func int(_ key: String) throws -> Int {
        guard has(key) else { throw CheckpointError.configMissingField(file: file, field: key) }
        if let i = values[key].flatMap(Self.exactInteger) { return i }
        throw CheckpointError.configInvalid(file: file, reason: "'\(key)' is not an integer")
    }

    /// An integer with a default.
    public func int(_ key: String, default d: Int) throws -> Int { has(key) ? try int(key) : d }

    /// A positive integer with a default; zero or negative values are errors, and so are values
    /// above the field's bound in ``Limits/configMaxima``.
    public func positiveInt(_ key: String, default d: Int? = nil) throws -> Int {
        let v: Int
        if let d { v = try int(key, default: d) } else { v = try int(key) }
        guard v > 0 else { throw CheckpointError.configInvalid(file: file, reason: "'\(key)' must be positive, got \(v)") }
        try checkBound(key, v)
        return v
    }

    /// A non-negative integer with a default, bounded like ``positiveInt(_:default:)``.
    public func countInt(_ key: String, default d: Int) throws -> Int {
        let v = try int(key, default: d)
        guard v >= 0 else { throw CheckpointError.configInvalid(file: file, reason: "'\(key)' must be 0 or more, got \(v)") }
        try checkBound(key, v)
        return v
    }

    private func checkBound(_ key: String, _ v: Int) throws {
        if let bound = Limits.configMaxima[key], v > bound {
            throw CheckpointError.configInvalid(file: file, reason: "'\(key)' is \(v), above ViTLens's limit of \(bound)")
        }
    }

    /// A floating-point number with a default.
    public func double(_ key: String, default d: Double) throws -> Double {
        guard has(key) else { return d }
        guard let n = values[key] as? NSNumber, !Self.isBoolean(n) else {
            throw CheckpointError.configInvalid(file: file, reason: "'\(key)' is not a number")
        }
        return n.doubleValue
    }

    /// A boolean with a default: JSON `true` or `false` only (`0` and `1` are numbers, not booleans).
    public func bool(_ key: String, default d: Bool) throws -> Bool {
        guard has(key) else { return d }
        guard let n = values[key] as? NSNumber, Self.isBoolean(n) else {
            throw CheckpointError.configInvalid(file: file, reason: "'\(key)' is not a boolean (true or false)")
        }
        return n.boolValue
    }

    // JSONSerialization hands back JSON numbers and booleans alike as NSNumber, and on Linux
    // `as? Bool` accepts any 0/1 number while `is Bool` is true for 0 and 1, so both tests confuse
    // `1` with `true`. A JSON boolean is the NSNumber whose objCType is `c` (C `char`/BOOL);
    // JSON numbers are `q`/`Q` (integers) or `d` (with a fraction or exponent).

    /// Whether `n` came from a JSON `true`/`false` (or a Swift `Bool`).
    static func isBoolean(_ n: NSNumber) -> Bool { String(cString: n.objCType) == "c" }

    /// `value` as an `Int` when it is a JSON number with an exact integer value, else `nil`.
    static func exactInteger(_ value: Any) -> Int? {
        guard let n = value as? NSNumber, !isBoolean(n) else { return nil }
        switch String(cString: n.objCType) {
        case "d", "f": return Int(exactly: n.doubleValue)
        case "Q", "L", "I", "S", "C": return Int(exactly: n.uint64Value)
        default: return Int(exactly: n.int64Value)
        }
    }

    /// `id2label` as a dictionary from class index to name (empty when absent).
    public func labels() throws -> [Int: String] {
        guard let raw = values["id2label"] as? [String: Any] else { return [:] }
        var out: [Int: String] = [:]
        for (k, v) in raw {
            guard let i = Int(k), let s = v as? String else {
                throw CheckpointError.configInvalid(file: file, reason: "id2label entry '\(k)' is not index -> name")
            }
            out[i] = s
        }
        return out
    }
}
