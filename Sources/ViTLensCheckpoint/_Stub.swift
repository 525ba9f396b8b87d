// TEMPORARY stub with the agreed API of the checkpoint branch; removed when that branch merges.
import Foundation
import ViTLensCore
public enum CheckpointError: Error, CustomStringConvertible, Equatable {
  case fileNotFound(file: String)
  case missingWeight(key: String, file: String)
  case unexpectedWeights(keys: [String], file: String)
  case shapeMismatch(key: String, expected: [Int], found: [Int], file: String)
  case configMissingField(file: String, field: String)
  case configInvalid(file: String, reason: String)
  case unknownModelType(file: String, type: String)
  case modelNotFound(spec: String)
  public var description: String { "\(self)" }
}
public final class SafeTensorsArchive: @unchecked Sendable {
  let tensors: [String: Tensor]
  public init(url: URL) throws {
    let d = try Data(contentsOf: url)
    let n = d.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
    let h = try JSONSerialization.jsonObject(with: d.subdata(in: 8..<(8+Int(n)))) as! [String: Any]
    var t: [String: Tensor] = [:]
    for (k, v) in h where k != "__metadata__" {
      let e = v as! [String: Any]; let shape = e["shape"] as! [Int]; let off = e["data_offsets"] as! [Int]
      let dt = e["dtype"] as! String
      let base = 8 + Int(n)
      var vals = [Float](repeating: 0, count: shape.reduce(1,*))
      d.withUnsafeBytes { raw in
        for i in 0..<vals.count {
          if dt == "F32" { vals[i] = Float(bitPattern: raw.loadUnaligned(fromByteOffset: base+off[0]+4*i, as: UInt32.self)) }
          else if dt == "BF16" { vals[i] = Float(bfloat16Bits: raw.loadUnaligned(fromByteOffset: base+off[0]+2*i, as: UInt16.self)) }
          else if dt == "F16" { vals[i] = Float(halfBits: raw.loadUnaligned(fromByteOffset: base+off[0]+2*i, as: UInt16.self)) }
        }
      }
      t[k] = Tensor(shape: shape, values: vals)
    }
    tensors = t
  }
  public var names: [String] { tensors.keys.sorted() }
}
public final class WeightStore: @unchecked Sendable {
  let a: SafeTensorsArchive; let base: String; var used = Set<String>()
  public init(archive: SafeTensorsArchive, basePrefix: String = "") { a = archive; base = basePrefix }
  func resolve(_ k: String) -> String? { a.tensors[k] != nil ? k : (a.tensors[base + k] != nil ? base + k : nil) }
  public func take(_ key: String, shape: [Int]) throws -> [Float] {
    guard let v = try takeOptional(key, shape: shape) else { throw CheckpointError.missingWeight(key: key, file: "stub") }
    return v
  }
  public func takeOptional(_ key: String, shape: [Int]) throws -> [Float]? {
    guard let k = resolve(key), let t = a.tensors[k] else { return nil }
    guard t.shape == shape else { throw CheckpointError.shapeMismatch(key: key, expected: shape, found: t.shape, file: "stub") }
    used.insert(k); return t.values
  }
  public func has(_ key: String) -> Bool { resolve(key) != nil }
  public func shape(of key: String) -> [Int]? { resolve(key).flatMap { a.tensors[$0]?.shape } }
  public func ignore(where predicate: (String) -> Bool) { for k in a.tensors.keys where predicate(k) { used.insert(k) } }
  public func finish() throws { let left = a.names.filter { !used.contains($0) }; if !left.isEmpty { throw CheckpointError.unexpectedWeights(keys: left, file: "stub") } }
  public var file: String { "stub" }
}
public struct ModelFiles: Sendable {
  public var directory: URL; public var config: URL; public var weights: URL; public var preprocessorConfig: URL?
  public func file(_ name: String) -> URL? { let u = directory.appendingPathComponent(name); return FileManager.default.fileExists(atPath: u.path) ? u : nil }
}
public enum ModelLocator {
  public static func resolve(_ spec: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ModelFiles {
    let d = URL(fileURLWithPath: spec)
    let p = d.appendingPathComponent("preprocessor_config.json")
    return ModelFiles(directory: d, config: d.appendingPathComponent("config.json"), weights: d.appendingPathComponent("model.safetensors"), preprocessorConfig: FileManager.default.fileExists(atPath: p.path) ? p : nil)
  }
}
