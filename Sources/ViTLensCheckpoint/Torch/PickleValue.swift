/// A value built by ``PickleMachine``: plain Python data, the few globals it allows, and the two
/// objects `torch.save` pickles for a state dict (a storage reference and a tensor view of one).
/// Containers are reference types, as in Python, so a memoised list or dict that is filled later
/// is seen filled wherever it is fetched again.
enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    /// An integer that does not fit `Int`, as its little-endian two's-complement bytes.
    case bigInt([UInt8])
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple(PickleTuple)
    case list(PickleList)
    case dict(PickleDict)
    /// An allowed global, as `module.name`.
    case global(String)
    case storage(TorchStorageRef)
    case tensor(TorchTensorInfo)

    /// How many containers deep the value is (0 for a scalar).
    var depth: Int {
        switch self {
        case .tuple(let t): return t.depth
        case .list(let l): return l.depth
        case .dict(let d): return d.depth
        default: return 0
        }
    }

    /// A short name of the value's kind, for messages.
    var kind: String {
        switch self {
        case .none: return "None"
        case .bool: return "bool"
        case .int, .bigInt: return "int"
        case .float: return "float"
        case .string: return "str"
        case .bytes: return "bytes"
        case .tuple: return "tuple"
        case .list: return "list"
        case .dict: return "dict"
        case .global(let name): return name
        case .storage: return "storage"
        case .tensor: return "tensor"
        }
    }
}

/// An immutable tuple.
final class PickleTuple {
    let items: [PickleValue]
    let depth: Int
    init(_ items: [PickleValue]) {
        self.items = items
        depth = 1 + (items.map(\.depth).max() ?? 0)
    }
}

/// A list, filled by `APPEND`/`APPENDS`.
final class PickleList {
    var items: [PickleValue] = []
    var depth = 1
}

/// A dict (or `OrderedDict`), filled by `SETITEM`/`SETITEMS`; keys keep their order.
final class PickleDict {
    var entries: [(key: PickleValue, value: PickleValue)] = []
    var depth = 1
}

/// A storage named by a `BINPERSID` record: `('storage', torch.FloatStorage, key, location, numel)`.
struct TorchStorageRef: Equatable {
    /// The storage's key: the zip entry `data/<key>`, or the legacy format's storage id.
    let key: String
    /// Element type, from the storage class.
    let dtype: SafeTensorsDType
    /// Number of elements the record declares.
    let count: Int
}
