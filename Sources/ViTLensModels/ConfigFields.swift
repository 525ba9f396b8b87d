import Foundation
import ViTLensCheckpoint
import ViTLensCore

extension CodingUserInfoKey {
    /// The path of the config file being decoded, for error messages.
    static let configFile = CodingUserInfoKey(rawValue: "ViTLensModels.configFile")!
    /// The `model_type` being loaded, for families that answer several.
    static let modelType = CodingUserInfoKey(rawValue: "ViTLensModels.modelType")!
}

/// A coding key for any name (the entries of `id2label`).
struct AnyConfigKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// Reads Hugging Face config files with `JSONDecoder`, turning every problem into a one-line
/// ``ModelError`` that names the file.
enum ConfigFile {
    /// Reads `url` into bytes.
    /// - Throws: `CheckpointError` naming the file when it is missing or unreadable.
    static func read(_ url: URL) throws -> Data {
        do { return try UserFile.read(url.path) } catch { throw CheckpointError.file(url.path, error) }
    }

    /// Decodes `data` as `type`; the fields' own checks throw ``ModelError`` and anything else
    /// (not JSON, not an object) is reported as "not a JSON object". A key that appears twice in
    /// one object is refused: `JSONDecoder` would keep the first, Python's `json` the last.
    static func decode<T: Decodable>(_ type: T.Type, from data: Data, file: String, modelType: String? = nil) throws -> T {
        let decoder = JSONDecoder()
        decoder.userInfo[.configFile] = file
        decoder.userInfo[.modelType] = modelType
        let value: T
        do {
            value = try decoder.decode(T.self, from: data)
        } catch let error as ModelError {
            throw error
        } catch {
            throw ModelError.configInvalid(file: file, reason: "not a JSON object")
        }
        do { _ = try JSONReader.parse([UInt8](data), options: .init(keyEquality: .canonicalEquivalence)) } catch {
            if let duplicate = error.duplicateKey {
                let place = duplicate.object.map { " in '\($0)'" } ?? ""
                throw ModelError.configInvalid(file: file, reason: "key '\(duplicate.key)' appears twice\(place)")
            }
        }
        return value
    }
}

/// One JSON object of a config file while it is decoded: typed reads with Hugging Face's defaults
/// and ViTLens's checks, each failure a ``ModelError`` naming the file and the field.
///
/// JSON numbers and booleans never stand in for each other (`1` is not `true`, `true` is not an
/// integer); an integer may be written with a zero fraction (`2.0`); `null` counts as absent.
struct ConfigFields<Key: CodingKey> {
    /// The file the values come from (for messages).
    let file: String
    private let container: KeyedDecodingContainer<Key>

    /// The object `decoder` stands at, keyed by `Key`.
    init(_ decoder: any Decoder, _ keys: Key.Type) throws {
        file = decoder.userInfo[.configFile] as? String ?? "config.json"
        container = try decoder.container(keyedBy: Key.self)
    }

    /// The error for an unusable value.
    func invalid(_ reason: String) -> ModelError { .configInvalid(file: file, reason: reason) }

    /// Whether `key` is present and not null.
    func has(_ key: Key) -> Bool {
        container.contains(key) && !((try? container.decodeNil(forKey: key)) ?? true)
    }

    private func value<T: Decodable>(_ type: T.Type, _ key: Key, _ what: String) throws -> T? {
        guard has(key) else { return nil }
        do { return try container.decode(T.self, forKey: key) } catch { throw invalid("'\(key.stringValue)' is not \(what)") }
    }

    private func required<T>(_ v: T?, _ key: Key) throws -> T {
        guard let v else { throw ModelError.configMissingField(file: file, field: key.stringValue) }
        return v
    }

    /// A required string.
    func string(_ key: Key) throws -> String { try required(value(String.self, key, "a string"), key) }

    /// A string with a default.
    func string(_ key: Key, default d: String) throws -> String { try value(String.self, key, "a string") ?? d }

    /// A required integer.
    func int(_ key: Key) throws -> Int { try required(value(Int.self, key, "an integer"), key) }

    /// An integer with a default.
    func int(_ key: Key, default d: Int) throws -> Int { try value(Int.self, key, "an integer") ?? d }

    /// A positive integer (required when `d` is nil), at most its bound in ``Limits/configMaxima``.
    func positiveInt(_ key: Key, default d: Int? = nil) throws -> Int {
        let v = try d.map { try int(key, default: $0) } ?? int(key)
        guard v > 0 else { throw invalid("'\(key.stringValue)' must be positive, got \(v)") }
        try checkBound(key, v)
        return v
    }

    /// A non-negative integer with a default, bounded like ``positiveInt(_:default:)``.
    func countInt(_ key: Key, default d: Int) throws -> Int {
        let v = try int(key, default: d)
        guard v >= 0 else { throw invalid("'\(key.stringValue)' must be 0 or more, got \(v)") }
        try checkBound(key, v)
        return v
    }

    private func checkBound(_ key: Key, _ v: Int) throws {
        if let bound = Limits.configMaxima[key.stringValue], v > bound {
            throw invalid("'\(key.stringValue)' is \(v), above ViTLens's limit of \(bound)")
        }
    }

    /// A floating-point number with a default.
    func double(_ key: Key, default d: Double) throws -> Double { try value(Double.self, key, "a number") ?? d }

    /// A boolean with a default: JSON `true` or `false` only.
    func bool(_ key: Key, default d: Bool) throws -> Bool {
        try value(Bool.self, key, "a boolean (true or false)") ?? d
    }

    /// A nested object decoded as `T` (nil when absent), e.g. CLIP's `vision_config`.
    func nested<T: Decodable>(_ type: T.Type, _ key: Key) throws -> T? {
        guard has(key) else { return nil }
        do {
            return try container.decode(T.self, forKey: key)
        } catch let error as ModelError {
            throw error
        } catch {
            throw invalid("'\(key.stringValue)' is not an object")
        }
    }

    /// `id2label` as class index to name; empty when absent or not an object.
    func labels(_ key: Key) throws -> [Int: String] {
        guard has(key), let raw = try? container.nestedContainer(keyedBy: AnyConfigKey.self, forKey: key) else { return [:] }
        var out: [Int: String] = [:]
        for k in raw.allKeys {
            guard let i = Int(k.stringValue), let s = try? raw.decode(String.self, forKey: k) else {
                throw invalid("id2label entry '\(k.stringValue)' is not index -> name")
            }
            out[i] = s
        }
        return out
    }
}
