import Foundation
import ViTLensCore

/// A PyTorch state dict saved by `torch.save` (`.pth`, `.pt`, `.bin`), read without running any of
/// its code.
///
/// Both formats are read: the zip archive torch writes since 1.6 (`<name>/data.pkl` plus one stored
/// entry `<name>/data/<key>` per storage, `byteorder`, `version`), and the legacy stream
/// (`_use_new_zipfile_serialization=False`: magic number, protocol version, system info, the
/// state-dict pickle, the storage keys, then each storage as an element count and its bytes). The
/// pickles go through ``PickleMachine``, which refuses every global outside the state-dict
/// allow-list. The file is memory-mapped; tensors are converted when taken, so opening a large
/// checkpoint reads only its pickle.
///
/// A file may hold the state dict itself, or a dict of them (`{"model": ...}`, DINO's
/// `{"teacher": ..., "student": ...}`): give `key`, or the first of ``preferredKeys`` present (else
/// the only dict of tensors) is taken and named in ``stateDictKey``.
///
/// Element types: F32, F16, BF16 and F64 read as floats; integer and bool tensors are listed but
/// refused by ``floats(_:requireFinite:)`` like in safetensors. Big-endian files are refused.
public final class TorchCheckpoint: TensorSource, @unchecked Sendable {
    /// The file read.
    public let url: URL
    /// Tensor names of the state dict, sorted.
    public let names: [String]
    /// The entry of the file's top-level dict that holds the state dict, or `nil` when the file
    /// is the state dict itself.
    public let stateDictKey: String?
    /// Whether the file is in the legacy (pre-zip) format.
    public let isLegacyFormat: Bool

    private let mapping: MappedFile
    private let tensors: [String: TorchTensorInfo]
    /// Storage key -> where its bytes start in the file.
    private let storageStarts: [String: Int]

    /// Entries tried, in order, when a file holds several state dicts and no key is given.
    public static let preferredKeys = ["state_dict", "model", "teacher", "model_ema", "module", "student", "net"]

    /// Whether `url` starts like a `torch.save` file (a zip archive or a protocol-2 pickle).
    public static func looksLikeTorchFile(_ url: URL) -> Bool {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return false }
        defer { try? handle.close() }
        let head = [UInt8]((try? handle.read(upToCount: 4)) ?? Data())
        return head.starts(with: [0x50, 0x4B, 0x03, 0x04]) || head.starts(with: [0x80, 0x02, 0x8A])
    }

    /// Maps and reads the checkpoint at `url`.
    /// - Parameter key: the top-level entry holding the state dict, if the file is a dict of them.
    /// - Throws: ``CheckpointError`` when the file cannot be opened, ``TorchCheckpointError`` naming
    ///   the file and the problem otherwise.
    public init(url: URL, key: String? = nil) throws {
        self.url = url
        let file = url.path
        mapping = try MappedFile(path: file)
        let bytes = mapping.bytes
        let root: PickleValue
        var storages: [String: TorchStorageRef] = [:]
        var starts: [String: Int] = [:]
        func record(_ pid: PickleValue, legacy: Bool) throws -> PickleValue {
            let ref = try Self.storageRef(pid, legacy: legacy, file: file)
            if let known = storages[ref.key], known != ref {
                throw TorchCheckpointError(file: file, reason: "storage '\(ref.key)' is declared twice with different types or sizes")
            }
            storages[ref.key] = ref
            return .storage(ref)
        }
        if bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) {
            isLegacyFormat = false
            let zip = try StoredZip(bytes: bytes, file: file)
            let pickles = zip.entries.keys.filter { $0.hasSuffix("/data.pkl") && $0.split(separator: "/").count == 2 }
            guard pickles.count == 1, let pickleName = pickles.first else {
                throw TorchCheckpointError(file: file, reason: "zip archive has \(pickles.count) '<name>/data.pkl' entries, expected 1 (not a torch.save file)")
            }
            let prefix = String(pickleName.dropLast("data.pkl".count))
            if let order = zip.entries[prefix + "byteorder"] {
                let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[order]), as: UTF8.self)
                guard text == "little" else {
                    throw TorchCheckpointError(file: file, reason: "byteorder is '\(text.prefix(16))'; only little-endian checkpoints are read")
                }
            }
            var machine = PickleMachine(bytes: bytes, range: zip.entries[pickleName].unsafelyUnwrapped, file: file, what: "data.pkl",
                                        persistentLoad: { try record($0, legacy: false) })
            root = try machine.load()
            for (k, ref) in storages {
                guard let range = zip.entries[prefix + "data/" + k] else {
                    throw TorchCheckpointError(file: file, reason: "storage '\(k)' has no entry '\(prefix)data/\(k)' (truncated archive?)")
                }
                let (needed, overflow) = ref.count.multipliedReportingOverflow(by: ref.dtype.size)
                guard !overflow, needed == range.count else {
                    throw TorchCheckpointError(file: file, reason: "storage '\(k)' declares \(ref.count) elements of \(ref.dtype.size) bytes but its entry holds \(range.count) bytes")
                }
                starts[k] = range.lowerBound
            }
        } else if bytes.starts(with: [0x80, 0x02, 0x8A]) {
            isLegacyFormat = true
            var position = 0
            func next(_ what: String, persistent: ((PickleValue) throws -> PickleValue)? = nil) throws -> PickleValue {
                var machine = PickleMachine(bytes: bytes, range: position ..< bytes.count, file: file, what: what, persistentLoad: persistent)
                let value = try machine.load()
                position = machine.position
                return value
            }
            guard case .bigInt(let magic) = try next("magic number"), magic == Self.legacyMagic else {
                throw TorchCheckpointError(file: file, reason: "not a torch.save file (no legacy magic number)")
            }
            guard case .int(1001) = try next("protocol version") else {
                throw TorchCheckpointError(file: file, reason: "legacy protocol version is not 1001")
            }
            guard case .dict(let info) = try next("system info"),
                  info.entries.contains(where: { if case .string("little_endian") = $0.key, case .bool(true) = $0.value { return true }; return false }) else {
                throw TorchCheckpointError(file: file, reason: "legacy system info does not say little_endian (only little-endian checkpoints are read)")
            }
            root = try next("state dict pickle", persistent: { try record($0, legacy: true) })
            guard case .list(let keyList) = try next("storage key list") else {
                throw TorchCheckpointError(file: file, reason: "legacy storage key list is not a list")
            }
            let reader = ByteReader(bytes: bytes, file: file)
            for item in keyList.items {
                guard case .string(let k) = item, let ref = storages[k] else {
                    throw TorchCheckpointError(file: file, reason: "legacy storage key list names a storage the pickle does not use")
                }
                guard position <= bytes.count - 8 else {
                    throw TorchCheckpointError(file: file, reason: "storage '\(k)' starts past the end of the file (truncated?)")
                }
                let declared = reader.u64(position)
                let (needed, overflow) = ref.count.multipliedReportingOverflow(by: ref.dtype.size)
                guard declared == UInt64(ref.count), !overflow, needed <= bytes.count - position - 8 else {
                    throw TorchCheckpointError(file: file, reason: "storage '\(k)' declares \(declared) elements (\(ref.count) expected) and runs past the end of the file")
                }
                starts[k] = position + 8
                position += 8 + needed
            }
            guard starts.count == storages.count else {
                throw TorchCheckpointError(file: file, reason: "legacy storage key list lacks storages the pickle uses")
            }
        } else {
            throw TorchCheckpointError(file: file, reason: "not a torch.save file (neither a zip archive nor a legacy pickle)")
        }
        let (dict, picked) = try Self.stateDict(root, key: key, file: file)
        tensors = dict
        stateDictKey = picked
        storageStarts = starts
        names = dict.keys.sorted()
    }

    /// `0x1950a86a20f9469cfc6c`, the legacy format's magic number, as pickled (little-endian).
    static let legacyMagic: [UInt8] = [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]

    public var description: String { url.path }

    /// The file, for messages.
    public func fileName(for name: String) -> String? { tensors[name] == nil ? nil : url.path }

    public func shape(of name: String) -> [Int]? { tensors[name]?.shape }

    /// The element type of `name`, or `nil` when absent.
    public func dtype(of name: String) -> SafeTensorsDType? { tensors[name]?.storage.dtype }

    /// The tensor's values as `Float`, row-major (strided views are gathered).
    /// - Throws: ``CheckpointError/missingWeight(key:file:)``, ``CheckpointError/unknownDType(file:key:dtype:)``
    ///   for integer tensors, ``CheckpointError/nonFiniteWeight(key:file:index:value:)`` with `requireFinite`.
    public func floats(_ name: String, requireFinite: Bool) throws -> [Float] {
        guard let t = tensors[name], let start = storageStarts[t.storage.key] else {
            throw CheckpointError.missingWeight(key: name, file: url.path)
        }
        let dtype = t.storage.dtype, size = dtype.size
        guard dtype.isFloatingPoint else { throw CheckpointError.unknownDType(file: url.path, key: name, dtype: dtype.rawValue) }
        let n = t.count
        guard n > 0, let base = mapping.base else { return [] }
        let first = base + start + t.offset * size
        let values = [Float](unsafeUninitializedCapacity: n) { dst, initialized in
            let out = dst.baseAddress.unsafelyUnwrapped
            if t.isContiguous {
                SafeTensorsFile.widen(dtype, from: first, to: out, count: n)
            } else {
                var index = [Int](repeating: 0, count: t.shape.count)
                var element = 0
                for i in 0 ..< n {
                    SafeTensorsFile.widen(dtype, from: first + element * size, to: out + i, count: 1)
                    var d = t.shape.count - 1
                    while d >= 0 {
                        index[d] += 1
                        element += t.strides[d]
                        if index[d] < t.shape[d] { break }
                        element -= t.strides[d] * index[d]
                        index[d] = 0
                        d -= 1
                    }
                }
            }
            initialized = n
        }
        if requireFinite, let bad = Finite.firstNonFinite(values) {
            throw CheckpointError.nonFiniteWeight(key: name, file: url.path, index: bad, value: Finite.describe(values[bad]))
        }
        return values
    }

    // MARK: - Reading the pickle's records

    /// Checks a persistent id: `('storage', <storage class>, key, location, numel)` plus, in the
    /// legacy format, a sixth `None` (view metadata).
    private static func storageRef(_ pid: PickleValue, legacy: Bool, file: String) throws -> TorchStorageRef {
        guard case .tuple(let t) = pid, t.items.count == (legacy ? 6 : 5), case .string("storage") = t.items[0],
              case .global(let type) = t.items[1], case .string(let key) = t.items[2], case .string = t.items[3],
              case .int(let count) = t.items[4], count >= 0 else {
            throw TorchCheckpointError(file: file, reason: "persistent id is not a ('storage', type, key, location, size) record")
        }
        guard let dtype = PickleMachine.storageTypes[type] else {
            throw TorchCheckpointError(file: file, reason: "storage '\(key)' has type \(type), not a typed storage")
        }
        if legacy, case .none = t.items[5] {} else if legacy {
            throw TorchCheckpointError(file: file, reason: "storage '\(key)' is a view of another storage (legacy view metadata), not supported")
        }
        guard !key.isEmpty, key.count <= 64, key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
            throw TorchCheckpointError(file: file, reason: "storage key '\(key.prefix(64))' is not a plain name")
        }
        return TorchStorageRef(key: key, dtype: dtype, count: count)
    }

    /// The tensors of a dict whose values are all tensors, or `nil` when it is not one.
    private static func tensors(of dict: PickleDict) -> [String: TorchTensorInfo]? {
        guard !dict.entries.isEmpty else { return nil }
        var out: [String: TorchTensorInfo] = [:]
        for (k, v) in dict.entries {
            guard case .string(let name) = k, case .tensor(let t) = v else { return nil }
            out[name] = t
        }
        return out
    }

    /// Picks the state dict in the file's top-level value.
    private static func stateDict(_ root: PickleValue, key: String?, file: String) throws -> ([String: TorchTensorInfo], String?) {
        func fail(_ reason: String) -> TorchCheckpointError { TorchCheckpointError(file: file, reason: reason) }
        guard case .dict(let top) = root else { throw fail("holds a \(root.kind), not a state dict") }
        var names: Set<String> = []
        for (k, _) in top.entries {
            if case .string(let s) = k, !names.insert(s).inserted { throw fail("key '\(s)' appears twice") }
        }
        var nested: [(String, [String: TorchTensorInfo])] = []
        for (k, v) in top.entries {
            if case .string(let s) = k, case .dict(let d) = v, let t = tensors(of: d) { nested.append((s, t)) }
        }
        if let key {
            guard let found = nested.first(where: { $0.0 == key }) else {
                let choices = nested.map(\.0).joined(separator: ", ")
                throw fail("has no state dict under key '\(key)'\(choices.isEmpty ? "" : " (state dicts: \(choices))")")
            }
            return (found.1, key)
        }
        if top.entries.isEmpty { return ([:], nil) }
        if let plain = tensors(of: top) { return (plain, nil) }
        if let preferred = preferredKeys.first(where: { k in nested.contains { $0.0 == k } }),
           let found = nested.first(where: { $0.0 == preferred }) {
            return (found.1, preferred)
        }
        if nested.count == 1 { return (nested[0].1, nested[0].0) }
        if nested.isEmpty {
            let bad = top.entries.first { if case .tensor = $0.value { return false }; return true }
            let what = bad.map { entry -> String in
                if case .string(let s) = entry.key { return "entry '\(s)' is a \(entry.value.kind)" }
                return "a key is a \(entry.key.kind)"
            } ?? "it is empty"
            throw fail("is not a state dict: \(what), and no entry is a dict of tensors")
        }
        throw fail("holds several state dicts (\(nested.map(\.0).joined(separator: ", "))): choose one with --key")
    }
}
