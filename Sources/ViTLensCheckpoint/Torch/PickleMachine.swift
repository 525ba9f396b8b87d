/// A pickle interpreter that executes nothing: it knows only the opcodes `torch.save` writes for a
/// state dict and builds ``PickleValue``s from them.
///
/// Globals are looked up in a fixed allow-list (the one `torch.load(weights_only=True)` uses for
/// state dicts): `torch._utils._rebuild_tensor_v2`, `_rebuild_parameter`,
/// `_rebuild_parameter_with_state`, `collections.OrderedDict` and the typed storage classes
/// (`torch.FloatStorage`, `torch.HalfStorage`, `torch.BFloat16Storage`, ...). Any other global is
/// refused when its opcode is read, naming it; `REDUCE` only "calls" the allowed rebuild functions,
/// which here build a ``TorchTensorInfo`` after checking its arguments. Lengths are checked against
/// the bytes left, nesting is bounded by ``maxDepth`` and the memo and mark stack by the input size,
/// so a hostile pickle is refused with one line and never crashes.
struct PickleMachine {
    /// The deepest nesting of containers accepted.
    static let maxDepth = 64
    /// The longest integer accepted by `LONG1`/`LONG4`, in bytes.
    static let maxLongBytes = 16

    private let bytes: UnsafeRawBufferPointer
    private let file: String
    private let what: String
    private(set) var position: Int
    /// Where the pickle starts in `bytes`: byte positions in messages count from here.
    private let origin: Int
    private let end: Int
    private var stack: [PickleValue] = []
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]
    /// Turns a persistent id (the tuple after `BINPERSID`) into a value.
    private let persistentLoad: ((PickleValue) throws -> PickleValue)?

    /// A machine reading the pickle at `range` of `bytes`; `what` names it in messages
    /// (e.g. `data.pkl`).
    init(bytes: UnsafeRawBufferPointer, range: Range<Int>, file: String, what: String,
         persistentLoad: ((PickleValue) throws -> PickleValue)?) {
        self.bytes = bytes
        self.file = file
        self.what = what
        position = range.lowerBound
        origin = range.lowerBound
        end = range.upperBound
        self.persistentLoad = persistentLoad
    }

    /// The allowed globals that are not storage classes.
    static let allowedFunctions: Set<String> = [
        "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter",
        "torch._utils._rebuild_parameter_with_state", "collections.OrderedDict",
        // Only as NEWOBJ's class with no arguments: the `args` of DINO's training checkpoints.
        "argparse.Namespace",
    ]

    /// Storage class name -> element type.
    static let storageTypes: [String: SafeTensorsDType] = [
        "torch.FloatStorage": .F32, "torch.HalfStorage": .F16, "torch.BFloat16Storage": .BF16, "torch.DoubleStorage": .F64,
        "torch.LongStorage": .I64, "torch.IntStorage": .I32, "torch.ShortStorage": .I16, "torch.CharStorage": .I8,
        "torch.ByteStorage": .U8, "torch.BoolStorage": .BOOL,
    ]

    private func fail(_ reason: String) -> TorchCheckpointError {
        TorchCheckpointError(file: file, reason: "\(what): \(reason)")
    }

    /// Runs to `STOP` and returns the value left on the stack.
    mutating func load() throws -> PickleValue {
        while true {
            let at = position
            let op = try byte()
            switch op {
            case 0x80: _ = try byte() // PROTO
            case 0x95: _ = try take(8) // FRAME
            case 0x2E: // STOP
                guard stack.count == 1, marks.isEmpty else { throw fail("STOP at byte \(at - origin) with \(stack.count) values on the stack") }
                return stack[0]
            case 0x28: // MARK
                guard marks.count < Self.maxDepth * 4 else { throw fail("more than \(Self.maxDepth * 4) open MARKs (nesting too deep)") }
                marks.append(stack.count)
            case 0x30: _ = try pop() // POP
            case 0x31: _ = try popMark() // POP_MARK
            case 0x32: try push(try top()) // DUP
            case 0x7D: let d = PickleDict(); try push(.dict(d)) // EMPTY_DICT
            case 0x5D: try push(.list(PickleList())) // EMPTY_LIST
            case 0x29: try push(.tuple(PickleTuple([]))) // EMPTY_TUPLE
            case 0x74: try push(tuple(try popMark())) // TUPLE
            case 0x85: let a = try pop(); try push(tuple([a])) // TUPLE1
            case 0x86: let b = try pop(), a = try pop(); try push(tuple([a, b])) // TUPLE2
            case 0x87: let c = try pop(), b = try pop(), a = try pop(); try push(tuple([a, b, c])) // TUPLE3
            case 0x6C: let l = PickleList(); try append(try popMark(), to: l); try push(.list(l)) // LIST
            case 0x64: let d = PickleDict(); try setItems(try popMark(), in: d); try push(.dict(d)) // DICT
            case 0x61: let v = try pop(); try append([v], to: try list(at: at)) // APPEND
            case 0x65: let items = try popMark(); try append(items, to: try list(at: at)) // APPENDS
            case 0x73: let v = try pop(), k = try pop(); try setItems([k, v], in: try dict(at: at)) // SETITEM
            case 0x75: let items = try popMark(); try setItems(items, in: try dict(at: at)) // SETITEMS
            case 0x71: try put(Int(try byte())) // BINPUT
            case 0x72: try put(Int(try u32())) // LONG_BINPUT
            case 0x94: try put(memo.count) // MEMOIZE
            case 0x68: try get(Int(try byte()), at: at) // BINGET
            case 0x6A: try get(Int(try u32()), at: at) // LONG_BINGET
            case 0x4A: try push(.int(Int(Int32(bitPattern: try u32())))) // BININT
            case 0x4B: try push(.int(Int(try byte()))) // BININT1
            case 0x4D: let lo = Int(try byte()), hi = Int(try byte()); try push(.int(lo | hi << 8)) // BININT2
            case 0x8A: try push(try long(Int(try byte()), at: at)) // LONG1
            case 0x8B: try push(try long(Int(try u32()), at: at)) // LONG4
            case 0x47: try push(.float(Double(bitPattern: UInt64(bigEndian: try take(8).loadUnaligned(as: UInt64.self))))) // BINFLOAT
            case 0x4E: try push(.none) // NONE
            case 0x88: try push(.bool(true)) // NEWTRUE
            case 0x89: try push(.bool(false)) // NEWFALSE
            case 0x58: try push(.string(try text(Int(try u32()), at: at))) // BINUNICODE
            case 0x8C: try push(.string(try text(Int(try byte()), at: at))) // SHORT_BINUNICODE
            case 0x8D: try push(.string(try text(try length64(at: at), at: at))) // BINUNICODE8
            case 0x54: try push(.string(try text(Int(Int32(bitPattern: try u32())), at: at))) // BINSTRING
            case 0x55: try push(.string(try text(Int(try byte()), at: at))) // SHORT_BINSTRING
            case 0x42: try push(.bytes(Array(try take(Int(try u32()), at: at)))) // BINBYTES
            case 0x43: try push(.bytes(Array(try take(Int(try byte()), at: at)))) // SHORT_BINBYTES
            case 0x63: // GLOBAL
                let module = try line(at: at), name = try line(at: at)
                try push(try global(module, name))
            case 0x93: // STACK_GLOBAL
                guard case .string(let name) = try pop(), case .string(let module) = try pop() else {
                    throw fail("STACK_GLOBAL at byte \(at - origin) needs two strings")
                }
                try push(try global(module, name))
            case 0x52: // REDUCE
                let args = try pop(), callable = try pop()
                try push(try reduce(callable, args, at: at))
            case 0x81: // NEWOBJ
                let args = try pop(), cls = try pop()
                try push(try newObject(cls, args, at: at))
            case 0x62: // BUILD
                let state = try pop()
                try build(state, on: try top(), at: at)
            case 0x51: // BINPERSID
                let pid = try pop()
                guard let persistentLoad else { throw fail("persistent id at byte \(at - origin) where none is expected") }
                try push(try persistentLoad(pid))
            default:
                throw fail("unsupported pickle opcode 0x\(String(op, radix: 16)) at byte \(at - origin) (not a state dict)")
            }
        }
    }

    // MARK: - Reading bytes

    private mutating func byte() throws -> UInt8 {
        guard position < end else { throw fail("ends at byte \(position - origin) before its STOP opcode (truncated?)") }
        defer { position += 1 }
        return bytes[position]
    }

    private mutating func u32() throws -> UInt32 {
        UInt32(littleEndian: try take(4).loadUnaligned(as: UInt32.self))
    }

    private mutating func length64(at: Int) throws -> Int {
        let n = UInt64(littleEndian: try take(8).loadUnaligned(as: UInt64.self))
        guard n <= UInt64(end - position) else { throw fail("value at byte \(at - origin) claims \(n) bytes, past the end") }
        return Int(n)
    }

    private mutating func take(_ n: Int, at: Int? = nil) throws -> UnsafeRawBufferPointer {
        guard n >= 0, n <= end - position else {
            throw fail("value at byte \((at ?? position) - origin) claims \(n) bytes but \(end - position) are left")
        }
        defer { position += n }
        return UnsafeRawBufferPointer(rebasing: bytes[position ..< position + n])
    }

    private mutating func text(_ n: Int, at: Int) throws -> String {
        let raw = try take(n, at: at)
        guard let s = String(validating: raw, as: UTF8.self) else { throw fail("string at byte \(at - origin) is not valid UTF-8") }
        return s
    }

    /// A newline-terminated ASCII line (GLOBAL's module and name), at most 256 bytes.
    private mutating func line(at: Int) throws -> String {
        var out: [UInt8] = []
        while true {
            let b = try byte()
            if b == 0x0A { break }
            guard out.count < 256, b >= 0x20, b < 0x7F else { throw fail("GLOBAL at byte \(at - origin) has a malformed name") }
            out.append(b)
        }
        return String(decoding: out, as: UTF8.self)
    }

    private mutating func long(_ n: Int, at: Int) throws -> PickleValue {
        guard n <= Self.maxLongBytes else { throw fail("integer at byte \(at - origin) is \(n) bytes long (at most \(Self.maxLongBytes) accepted)") }
        let raw = Array(try take(n, at: at))
        guard n <= 8 else { return .bigInt(raw) }
        guard n > 0 else { return .int(0) }
        var v: UInt64 = 0
        for (i, b) in raw.enumerated() { v |= UInt64(b) << (8 * UInt64(i)) }
        if n < 8, raw[n - 1] & 0x80 != 0 { v |= ~0 << (8 * UInt64(n)) } // sign-extend
        return .int(Int(Int64(bitPattern: v)))
    }

    // MARK: - Stack

    private mutating func push(_ v: PickleValue) throws {
        guard v.depth <= Self.maxDepth else { throw fail("values nest deeper than \(Self.maxDepth) levels") }
        stack.append(v)
    }

    private mutating func pop() throws -> PickleValue {
        guard let v = stack.popLast(), stack.count >= (marks.last ?? 0) else { throw fail("stack underflow at byte \(position - 1 - origin)") }
        return v
    }

    private func top() throws -> PickleValue {
        guard let v = stack.last, stack.count > (marks.last ?? 0) else { throw fail("stack underflow at byte \(position - 1 - origin)") }
        return v
    }

    private mutating func popMark() throws -> [PickleValue] {
        guard let mark = marks.popLast() else { throw fail("no MARK for the opcode at byte \(position - 1 - origin)") }
        let items = Array(stack[mark...])
        stack.removeSubrange(mark...)
        return items
    }

    private func tuple(_ items: [PickleValue]) throws -> PickleValue {
        let t = PickleTuple(items)
        guard t.depth <= Self.maxDepth else { throw fail("values nest deeper than \(Self.maxDepth) levels") }
        return .tuple(t)
    }

    private func list(at: Int) throws -> PickleList {
        guard case .list(let l) = try top() else { throw fail("APPEND at byte \(at - origin) on a \(try top().kind), not a list") }
        return l
    }

    private func dict(at: Int) throws -> PickleDict {
        guard case .dict(let d) = try top() else { throw fail("SETITEM at byte \(at - origin) on a \(try top().kind), not a dict") }
        return d
    }

    private func append(_ items: [PickleValue], to list: PickleList) throws {
        let depth = 1 + (items.map(\.depth).max() ?? 0)
        guard depth <= Self.maxDepth else { throw fail("values nest deeper than \(Self.maxDepth) levels") }
        list.depth = max(list.depth, depth)
        list.items.append(contentsOf: items)
    }

    private func setItems(_ items: [PickleValue], in dict: PickleDict) throws {
        guard items.count % 2 == 0 else { throw fail("SETITEMS with an odd number of values") }
        let depth = 1 + (items.map(\.depth).max() ?? 0)
        guard depth <= Self.maxDepth else { throw fail("values nest deeper than \(Self.maxDepth) levels") }
        dict.depth = max(dict.depth, depth)
        for i in stride(from: 0, to: items.count, by: 2) { dict.entries.append((items[i], items[i + 1])) }
    }

    private mutating func put(_ index: Int) throws {
        guard memo.count <= end else { throw fail("memo grows past the pickle's size") }
        memo[index] = try top()
    }

    private mutating func get(_ index: Int, at: Int) throws {
        guard let v = memo[index] else { throw fail("memo entry \(index) fetched at byte \(at - origin) was never stored") }
        try push(v)
    }

    // MARK: - Globals and calls

    private func global(_ module: String, _ name: String) throws -> PickleValue {
        let full = "\(module).\(name)"
        guard Self.allowedFunctions.contains(full) || Self.storageTypes[full] != nil else {
            throw TorchCheckpointError(file: file, reason: "refuses pickle global \(full) (not a state dict)")
        }
        return .global(full)
    }

    private func reduce(_ callable: PickleValue, _ args: PickleValue, at: Int) throws -> PickleValue {
        guard case .global(let name) = callable, case .tuple(let t) = args else {
            throw fail("REDUCE at byte \(at - origin) calls a \(callable.kind), not an allowed function")
        }
        let a = t.items
        switch name {
        case "collections.OrderedDict":
            guard a.isEmpty else { throw fail("OrderedDict at byte \(at - origin) built with arguments") }
            return .dict(PickleDict())
        case "torch._utils._rebuild_tensor_v2":
            guard (6 ... 7).contains(a.count), case .storage(let storage) = a[0], case .int(let offset) = a[1],
                  case .tuple(let size) = a[2], case .tuple(let stride) = a[3], case .bool = a[4] else {
                throw fail("_rebuild_tensor_v2 at byte \(at - origin) has unexpected arguments")
            }
            try requireEmpty(a[5], "backward hooks", at: at)
            return .tensor(try TorchTensorInfo.checked(storage: storage, offset: offset, size: size.items, stride: stride.items,
                                                     fail: { fail("tensor at byte \(at - origin): \($0)") }))
        case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state":
            guard a.count == (name.hasSuffix("state") ? 4 : 3), case .tensor(let tensor) = a[0] else {
                throw fail("\(name) at byte \(at - origin) has unexpected arguments")
            }
            try requireEmpty(a[2], "backward hooks", at: at)
            if a.count == 4 { try requireEmpty(a[3], "parameter state", at: at) }
            return .tensor(tensor)
        default:
            throw fail("REDUCE at byte \(at - origin) calls \(name), which builds no value here")
        }
    }

    /// `NEWOBJ` (`cls.__new__(cls, *args)`): only an `argparse.Namespace` without arguments, kept as
    /// an empty dict (its attributes, set by `BUILD`, are not read).
    private func newObject(_ cls: PickleValue, _ args: PickleValue, at: Int) throws -> PickleValue {
        guard case .global("argparse.Namespace") = cls else {
            throw fail("NEWOBJ at byte \(at - origin) creates a \(cls.kind), not an argparse.Namespace")
        }
        guard case .tuple(let t) = args, t.items.isEmpty else { throw fail("NEWOBJ at byte \(at - origin) passes arguments to argparse.Namespace") }
        return .dict(PickleDict())
    }

    private func requireEmpty(_ v: PickleValue, _ what: String, at: Int) throws {
        switch v {
        case .none: return
        case .dict(let d) where d.entries.isEmpty: return
        default: throw fail("\(what) at byte \(at - origin) are not empty (a \(v.kind)); only plain tensors are read")
        }
    }

    /// `BUILD` sets an object's state: only an `OrderedDict`'s attributes (a state dict's
    /// `_metadata`) are accepted, and ignored.
    private func build(_ state: PickleValue, on target: PickleValue, at: Int) throws {
        switch (target, state) {
        case (.dict, .dict), (.dict, .none), (.dict, .tuple): return
        default: throw fail("BUILD at byte \(at - origin) sets the state of a \(target.kind) (not a state dict)")
        }
    }
}
