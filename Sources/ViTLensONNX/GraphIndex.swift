import Foundation

/// Lookups over an ``ONNXGraph`` that the importer needs: who produces a value, which initializer
/// a value really is (through `Identity` chains the exporter inserts for deduplicated weights),
/// small constant folding for shape vectors and scalars, and the module path in a node's name.
struct GraphIndex {
    let graph: ONNXGraph
    /// Node index producing each value name.
    let producer: [String: Int]
    /// Indices of the nodes consuming each value name.
    let consumerMap: [String: [Int]]

    init(_ graph: ONNXGraph) {
        self.graph = graph
        var p: [String: Int] = [:]
        var c: [String: [Int]] = [:]
        for (i, n) in graph.nodes.enumerated() {
            for o in n.outputs where !o.isEmpty { p[o] = i }
            for input in n.inputs where !input.isEmpty { c[input, default: []].append(i) }
        }
        producer = p
        consumerMap = c
    }

    /// The initializer a value name refers to, following `Identity` nodes.
    func initializer(_ value: String) -> ONNXTensor? {
        var name = value
        for _ in 0 ..< 16 {
            if let t = graph.initializers[name] { return t }
            guard let i = producer[name], graph.nodes[i].opType == "Identity", let input = graph.nodes[i].inputs.first else { return nil }
            name = input
        }
        return nil
    }

    /// A constant tensor behind a value: an initializer or a `Constant` node (through `Identity`).
    func constant(_ value: String) -> ONNXTensor? {
        if let t = initializer(value) { return t }
        var name = value
        for _ in 0 ..< 16 {
            guard let i = producer[name] else { return nil }
            let n = graph.nodes[i]
            switch n.opType {
            case "Identity":
                guard let input = n.inputs.first else { return nil }
                if let t = initializer(input) { return t }
                name = input
            case "Constant":
                if let t = n.tensor("value") { return t }
                if let f = n.float("value_float") {
                    return ONNXTensor(name: name, dims: [], dataType: .float, storage: .floats([f]), file: "")
                }
                if let fs = n.floats("value_floats") {
                    return ONNXTensor(name: name, dims: [fs.count], dataType: .float, storage: .floats(fs), file: "")
                }
                if let v = n.int("value_int") {
                    return ONNXTensor(name: name, dims: [], dataType: .int64, storage: .int64s([v]), file: "")
                }
                if let vs = n.ints("value_ints") {
                    return ONNXTensor(name: name, dims: [vs.count], dataType: .int64, storage: .int64s(vs), file: "")
                }
                return nil
            default:
                return nil
            }
        }
        return nil
    }

    /// A scalar float constant (one element), if the value is one.
    func scalarFloat(_ value: String) -> Float? {
        guard let t = constant(value), t.elementCount == 1, t.isFloatingPoint, let v = try? t.floatValues() else { return nil }
        return v.first
    }

    /// The entries of a 1-D integer vector, as far as they are constant: nil entries are computed at
    /// run time (e.g. `Unsqueeze(Gather(Shape(x)))` for the batch size). Handles `Constant`,
    /// initializers and `Concat` of those; nil when even the length is unknown.
    ///
    /// The walk is bounded: at most 8 levels deep, ``shapeVectorBudget`` visited values in all and
    /// ``maxShapeLength`` entries, so a graph whose `Concat`s fan out to each other many times
    /// cannot make it run for ever or fill the memory.
    func shapeVector(_ value: String) -> [Int64?]? {
        var budget = Self.shapeVectorBudget
        return shapeVector(value, depth: 0, budget: &budget)
    }

    /// The most values one ``shapeVector(_:)`` call visits (a real shape has a handful).
    static let shapeVectorBudget = 256
    /// The longest vector ``shapeVector(_:)`` returns; longer constants are not shapes.
    static let maxShapeLength = 64

    private func shapeVector(_ value: String, depth: Int, budget: inout Int) -> [Int64?]? {
        guard depth < 8, budget > 0 else { return nil }
        budget -= 1
        if let t = constant(value), !t.isFloatingPoint {
            guard t.dims.count <= 1, t.elementCount <= Self.maxShapeLength, let v = try? t.int64Values() else { return nil }
            return v.map { Optional($0) }
        }
        guard let i = producer[value] else { return nil }
        let n = graph.nodes[i]
        switch n.opType {
        case "Concat":
            var out: [Int64?] = []
            for input in n.inputs {
                guard let part = shapeVector(input, depth: depth + 1, budget: &budget) else { return nil }
                out += part
                guard out.count <= Self.maxShapeLength else { return nil }
            }
            return out
        case "Unsqueeze":
            // Unsqueezing a scalar gives one (unknown) entry.
            return [nil]
        case "Cast", "Identity":
            guard let input = n.inputs.first else { return nil }
            return shapeVector(input, depth: depth + 1, budget: &budget)
        default:
            return nil
        }
    }

    /// Nodes that consume a value.
    func consumers(of value: String) -> [Int] { consumerMap[value] ?? [] }

    /// Indices of every node the given nodes depend on, themselves included.
    func ancestors(of seeds: [Int]) -> Set<Int> {
        var keep = Set<Int>()
        var stack = seeds
        while let i = stack.popLast() {
            guard keep.insert(i).inserted else { continue }
            for input in graph.nodes[i].inputs {
                if let p = producer[input] { stack.append(p) }
            }
        }
        return keep
    }
}

/// A node name split into its module path and its own name: `/backbone/encoder/layer.0/attention/
/// attention/key/MatMul` -> module `["backbone", "encoder", "layer.0", "attention", "attention",
/// "key"]`, leaf `MatMul`. The TorchScript exporter names nodes this way; other names give an empty
/// module path.
struct NodePath {
    var module: [String]
    var leaf: String

    init(_ name: String) {
        let parts = name.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard name.hasPrefix("/"), let last = parts.last else {
            module = []
            leaf = name
            return
        }
        module = Array(parts.dropLast())
        leaf = last
    }
}
