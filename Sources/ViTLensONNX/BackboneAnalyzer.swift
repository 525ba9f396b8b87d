import Foundation
import ViTLensModels

/// Finds a Hugging Face ViT or DINOv2 backbone in an exported graph and plans its checkpoint.
///
/// The TorchScript exporter names every node after the module that ran it
/// (`/backbone/encoder/layer.0/attention/attention/key/MatMul`), while linear weights become
/// anonymous initializers stored `[in, out]`. So weights are named by the node that consumes them:
/// the module path (minus a wrapper prefix such as `backbone`) goes through ``HuggingFaceNames``,
/// the operator says which parameter it is (MatMul/Gemm: weight; Add: bias; LayerNorm Mul/Add or
/// `LayerNormalization` inputs: weight/bias; layer-scale Mul: `lambda1`; Conv: patch projection).
/// The backbone is every node the final `layernorm` (and a ViT pooler) depends on; the rest (a
/// decoder, a classifier) is dropped. Any float weight in the backbone left without a name is an
/// error, so nothing is silently lost.
struct BackboneAnalyzer {
    let model: ONNXModel
    let index: GraphIndex
    var file: String { model.file }
    var nodes: [ONNXNode] { model.graph.nodes }

    init(_ model: ONNXModel) {
        self.model = model
        self.index = GraphIndex(model.graph)
    }

    /// A node input that a weight was taken from.
    struct Use: Hashable {
        var node: Int
        var input: Int
    }

    func fail(_ reason: String) -> ONNXError {
        .unsupportedGraph(file: file, reason: "unsupported graph: " + reason)
    }

    /// The float initializer feeding input `k` of node `i` (through `Identity`), if any.
    func weight(_ i: Int, _ k: Int) -> ONNXTensor? {
        let n = nodes[i]
        guard k < n.inputs.count, !n.inputs[k].isEmpty, let t = index.initializer(n.inputs[k]), t.isFloatingPoint else { return nil }
        return t
    }

    /// Finds the backbone and plans its checkpoint, one named step after another.
    func analyze() throws -> BackbonePlan {
        try checkInitializers()
        let (prefix, convIndex) = try patchConvolution()
        let backbone = try backboneNodes(prefix: prefix, convIndex: convIndex)
        var draft = Draft()
        let patch = try patchEmbedding(convIndex, draft: &draft)
        let layers = try layerGroups(backbone.byRole)
        for l in 0 ..< layers.count {
            try layer(l, layers, hidden: patch.hidden, draft: &draft)
        }
        let pooler = try finalNormAndPooler(backbone.byRole, family: layers.family, hidden: patch.hidden, draft: &draft)
        guard let eps = draft.eps.first, draft.eps.allSatisfy({ $0 == eps }) else {
            throw fail("the LayerNorms use different epsilons \(Array(Set(draft.eps)).sorted())")
        }
        var synthesized: [String] = []
        let grid = try embeddings(backbone.byRole[.embeddings] ?? [], prefix: prefix, hidden: patch.hidden, family: layers.family,
                                  weights: &draft.weights, synthesized: &synthesized, used: &draft.used)
        try checkEverythingNamed(backbone.kept, used: draft.used)
        guard let heads = draft.heads, let intermediate = draft.intermediate, let act = draft.act, let qkvBias = draft.qkvBias,
              let swiglu = draft.swiglu else { throw fail("no encoder layers") }
        return BackbonePlan(
            family: layers.family, layers: layers.count, heads: heads, hidden: patch.hidden, intermediate: intermediate,
            mlpRatio: try mlpRatio(layers.family, hidden: patch.hidden, intermediate: intermediate, swiGLU: swiglu),
            patchSize: patch.size, channels: patch.channels, gridSide: grid, layerNormEps: eps, hiddenAct: act, qkvBias: qkvBias,
            swiGLU: swiglu, pooler: pooler, inputSize: inputSize(), prefix: prefix, weights: draft.weights,
            synthesized: synthesized, keptNodes: backbone.kept.count, totalNodes: nodes.count
        )
    }

    // MARK: - Steps

    /// What the steps have found so far: the weights by Hub key, the node inputs they came from,
    /// and the settings every layer must agree on.
    struct Draft {
        var weights: [String: WeightSource] = [:]
        var used = Set<Use>()
        var eps: [Float] = []
        var intermediate: Int?
        var qkvBias: Bool?
        var swiglu: Bool?
        var heads: Int?
        var act: String?

        /// Records `value` for a setting all layers share, or fails naming the layer that differs.
        static func agree<T: Equatable>(_ slot: inout T?, _ value: T, _ mismatch: (T) -> ONNXError) throws {
            if let first = slot, first != value { throw mismatch(first) }
            slot = value
        }
    }

    /// The nodes the backbone keeps (ancestors of the final layernorm and pooler), by role.
    struct Backbone {
        var kept: Set<Int>
        var byRole: [ModuleRole: [Int]]
    }

    /// The encoder layers' nodes, their count and the family their norm names give.
    struct LayerGroups {
        var parts: [Int: [LayerPart: [Int]]]
        var other: [Int: [(path: String, node: Int)]]
        var count: Int
        var family: BackboneFamily
    }

    /// Step 0: weights must be inside the file and dense.
    func checkInitializers() throws {
        let graph = model.graph
        for name in graph.initializerNames {
            if let t = graph.initializers[name], let location = t.externalLocation {
                throw fail("initializer '\(name)' keeps its values in the external file '\(location)'; re-save the model with its weights inside")
            }
        }
        if graph.sparseInitializerCount > 0 { throw fail("sparse initializers are not supported") }
    }

    /// Step 1: the patch-embedding Conv, whose module path gives the wrapper prefix.
    func patchConvolution() throws -> (prefix: [String], index: Int) {
        for (i, n) in nodes.enumerated() where n.opType == "Conv" {
            let module = NodePath(n.name).module
            if let e = module.lastIndex(of: "embeddings"), Array(module[e...]) == HuggingFaceNames.patchProjectionPath {
                return (Array(module[..<e]), i)
            }
        }
        throw fail("no patch-embedding Conv (a node named .../embeddings/patch_embeddings/projection/Conv); ViTLens imports Hugging Face ViT and DINOv2 graphs exported with torch.onnx.export(dynamo=False)")
    }

    /// Step 2: every node's role, and the backbone as the ancestors of the final layernorm (and pooler).
    func backboneNodes(prefix: [String], convIndex: Int) throws -> Backbone {
        let roles: [ModuleRole?] = nodes.map { n in
            let module = NodePath(n.name).module
            guard module.count > prefix.count, Array(module.prefix(prefix.count)) == prefix else { return nil }
            return HuggingFaceNames.role(of: module.dropFirst(prefix.count))
        }
        let seeds = roles.indices.filter {
            switch roles[$0] {
            case .finalNorm?, .poolerDense?, .poolerOther?: return true
            default: return false
            }
        }
        guard roles.contains(where: { $0 == .finalNorm }) else { throw fail("no final layernorm (nodes named .../layernorm/...) after the encoder") }
        let kept = index.ancestors(of: seeds)
        guard kept.contains(convIndex) else { throw fail("the final layernorm does not depend on the patch-embedding Conv") }
        var byRole: [ModuleRole: [Int]] = [:]
        for i in kept.sorted() {
            if let r = roles[i] { byRole[r, default: []].append(i) }
        }
        return Backbone(kept: kept, byRole: byRole)
    }

    /// Step 3: the patch Conv's weight and bias, which give the hidden size, channels and patch size.
    func patchEmbedding(_ convIndex: Int, draft: inout Draft) throws -> (hidden: Int, channels: Int, size: Int) {
        let conv = nodes[convIndex]
        guard let convWeight = weight(convIndex, 1), convWeight.dims.count == 4 else {
            throw fail("the patch-embedding Conv has no 4-D weight initializer")
        }
        let hidden = convWeight.dims[0], channels = convWeight.dims[1], patch = convWeight.dims[2]
        guard convWeight.dims[3] == patch, patch > 0 else { throw fail("patches of \(convWeight.dims[2])x\(convWeight.dims[3]) pixels are not square") }
        if let k = conv.ints("kernel_shape"), k != [Int64(patch), Int64(patch)] { throw fail("patch Conv kernel_shape \(k) disagrees with its weight \(convWeight.dims)") }
        let strides = conv.ints("strides") ?? [1, 1]
        guard strides == [Int64(patch), Int64(patch)] else { throw fail("patch Conv strides \(strides) differ from its kernel (\(patch), \(patch))") }
        if let pads = conv.ints("pads"), pads.contains(where: { $0 != 0 }) { throw fail("patch Conv is padded (\(pads))") }
        if let g = conv.int("group"), g != 1 { throw fail("patch Conv has group \(g)") }
        if let d = conv.ints("dilations"), d.contains(where: { $0 != 1 }) { throw fail("patch Conv is dilated (\(d))") }
        guard let convBias = weight(convIndex, 2), convBias.dims == [hidden] else { throw fail("the patch-embedding Conv has no bias of \(hidden) values") }
        draft.used.insert(Use(node: convIndex, input: 1))
        draft.used.insert(Use(node: convIndex, input: 2))
        let projection = PublicKeyTables.patchProjection
        draft.weights[projection + ".weight"] = .tensor(convWeight)
        draft.weights[projection + ".bias"] = .tensor(convBias)
        return (hidden, channels, patch)
    }

    /// Step 4: the nodes of each encoder layer, the layer count and the family.
    func layerGroups(_ byRole: [ModuleRole: [Int]]) throws -> LayerGroups {
        var parts: [Int: [LayerPart: [Int]]] = [:]
        var other: [Int: [(path: String, node: Int)]] = [:]
        var familyVotes = Set<BackboneFamily>()
        for (role, list) in byRole {
            switch role {
            case .layer(let l, let part):
                parts[l, default: [:]][part, default: []] += list
                if part == .norm1 || part == .norm2, let i = list.first {
                    let leafModule = NodePath(nodes[i].name).module.last ?? ""
                    familyVotes.insert(leafModule == PublicKeyTables.vit.norm1 || leafModule == PublicKeyTables.vit.norm2 ? .vit : .dinov2)
                }
            case .layerOther(let l, let path):
                other[l, default: []] += list.map { (path, $0) }
            default: break
            }
        }
        let layerIndices = Set(parts.keys).union(other.keys)
        guard let maxLayer = layerIndices.max() else { throw fail("no encoder layers (nodes named .../encoder/layer.N/... or .../layers.N/...)") }
        for l in 0 ... maxLayer where parts[l] == nil {
            throw fail("layer \(l) is missing (found layers \(layerIndices.sorted()))")
        }
        guard familyVotes.count == 1, let family = familyVotes.first else {
            throw fail(familyVotes.isEmpty ? "layer 0 has no LayerNorm named norm1 (DINOv2) or layernorm_before (ViT)"
                                           : "layers mix DINOv2 (norm1) and ViT (layernorm_before) names")
        }
        return LayerGroups(parts: parts, other: other, count: maxLayer + 1, family: family)
    }

    /// Step 6: the final layernorm and a ViT pooler (dense + tanh); returns whether there is a pooler.
    func finalNormAndPooler(_ byRole: [ModuleRole: [Int]], family: BackboneFamily, hidden: Int,
                                    draft: inout Draft) throws -> Bool {
        let final = try norm(byRole[.finalNorm] ?? [], where: "final layernorm", hidden: hidden, used: &draft.used)
        draft.weights[HuggingFaceNames.finalNorm + ".weight"] = final.weight
        draft.weights[HuggingFaceNames.finalNorm + ".bias"] = final.bias
        draft.eps.append(final.eps)
        guard let list = byRole[.poolerDense] else { return false }
        guard family == .vit else { throw fail("a pooler in a DINOv2 graph") }
        let lin = try linear(list, where: "pooler dense", used: &draft.used)
        guard let w = lin.weight, let b = lin.bias, w.shape.count == 2, w.shape[1] == hidden, b.shape == [w.shape[0]] else {
            throw fail("the pooler has no dense weight [pooler size, \(hidden)] and bias")
        }
        guard w.shape[0] == hidden else { throw fail("the pooler maps \(hidden) to \(w.shape[0]) features; ViTLens writes pooler_output_size = hidden_size only") }
        let actOps = Set((byRole.filter { if case .poolerOther = $0.key { return true }; return false }.values.joined()).map { nodes[$0].opType })
        guard actOps.contains("Tanh") else { throw fail("the pooler activation is not tanh (found \(actOps.sorted()))") }
        draft.weights[HuggingFaceNames.poolerDense + ".weight"] = w
        draft.weights[HuggingFaceNames.poolerDense + ".bias"] = b
        return true
    }

    /// Step 8: no float weight of the backbone may be left without a Hub name.
    /// (Identity nodes only forward deduplicated weights to the nodes that use them.)
    func checkEverythingNamed(_ kept: Set<Int>, used: Set<Use>) throws {
        for i in kept.sorted() where nodes[i].opType != "Identity" {
            for k in nodes[i].inputs.indices where !used.contains(Use(node: i, input: k)) {
                if let t = weight(i, k), t.elementCount > 1 {
                    throw fail("weight '\(t.name)' \(t.dims) consumed by node '\(nodes[i].name)' (\(nodes[i].opType)) has no Hugging Face name")
                }
            }
        }
    }

    /// The graph's fixed input height and width, when its image input has them.
    func inputSize() -> (height: Int, width: Int)? {
        guard let input = model.graph.runtimeInputs.first(where: { $0.shape?.count == 4 }), let shape = input.shape,
              let h = shape[2].value, let w = shape[3].value else { return nil }
        return (h, w)
    }

    /// DINOv2's whole `mlp_ratio` (nil for ViT); fails when no whole ratio gives the MLP width.
    func mlpRatio(_ family: BackboneFamily, hidden: Int, intermediate: Int, swiGLU: Bool) throws -> Int? {
        guard family == .dinov2 else { return nil }
        guard let ratio = ImportedConfig.mlpRatio(hidden: hidden, width: intermediate, swiGLU: swiGLU) else {
            throw fail("an MLP of \(intermediate) features is not hidden size \(hidden) times a whole mlp_ratio, which Dinov2Config cannot express")
        }
        return ratio
    }

    // MARK: - Modules

    struct Linear {
        var weight: WeightSource?
        var bias: WeightSource?
    }

    /// A linear module: MatMul with an `[in, out]` initializer (transposed to `[out, in]`) or Gemm,
    /// plus an Add of a 1-D initializer as bias.
    func linear(_ list: [Int], where place: String, used: inout Set<Use>) throws -> Linear {
        var result = Linear()
        for i in list {
            let n = nodes[i]
            switch n.opType {
            case "MatMul":
                if weight(i, 0) != nil { throw fail("\(place): MatMul takes its weight as the first operand") }
                guard let t = weight(i, 1) else { continue }
                guard t.dims.count == 2 else { throw fail("\(place): MatMul weight '\(t.name)' has shape \(t.dims), expected 2-D") }
                guard result.weight == nil else { throw fail("\(place) has two weight MatMuls") }
                result.weight = .tensor(t, transpose: true)
                used.insert(Use(node: i, input: 1))
            case "Gemm":
                guard let t = weight(i, 1) else { continue }
                guard t.dims.count == 2, (n.int("transA") ?? 0) == 0, (n.float("alpha") ?? 1) == 1, (n.float("beta") ?? 1) == 1 else {
                    throw fail("\(place): Gemm with transA, alpha or beta set")
                }
                guard result.weight == nil else { throw fail("\(place) has two weight MatMuls") }
                result.weight = .tensor(t, transpose: (n.int("transB") ?? 0) == 0)
                used.insert(Use(node: i, input: 1))
                if let b = weight(i, 2) {
                    guard b.dims.count == 1 else { throw fail("\(place): Gemm bias has shape \(b.dims)") }
                    result.bias = .tensor(b)
                    used.insert(Use(node: i, input: 2))
                }
            case "Add":
                for k in n.inputs.indices {
                    guard let t = weight(i, k), t.dims.count == 1 else { continue }
                    guard result.bias == nil else { throw fail("\(place) has two bias Adds") }
                    result.bias = .tensor(t)
                    used.insert(Use(node: i, input: k))
                }
            default: break
            }
        }
        return result
    }

    struct Norm {
        var weight: WeightSource
        var bias: WeightSource
        var eps: Float
    }

    /// A LayerNorm: one `LayerNormalization` node (scale, bias, `epsilon`, default 1e-5), or the
    /// opset < 17 decomposition `(x - mean) / sqrt(var + eps) * weight + bias` (ReduceMean, Sub, Pow,
    /// ReduceMean, Add eps, Sqrt, Div, Mul weight, Add bias).
    func norm(_ list: [Int], where place: String, hidden: Int, used: inout Set<Use>) throws -> Norm {
        guard !list.isEmpty else { throw fail("\(place) is missing") }
        var w: ONNXTensor?, b: ONNXTensor?, eps: Float?
        if let i = list.first(where: { nodes[$0].opType == "LayerNormalization" }) {
            let n = nodes[i]
            if let axis = n.int("axis"), axis != -1 { throw fail("\(place): LayerNormalization over axis \(axis)") }
            w = weight(i, 1)
            b = weight(i, 2)
            eps = n.float("epsilon") ?? 1e-5
            used.insert(Use(node: i, input: 1))
            used.insert(Use(node: i, input: 2))
        } else {
            guard list.contains(where: { nodes[$0].opType == "ReduceMean" }) else {
                throw fail("\(place) is neither a LayerNormalization node nor a decomposed LayerNorm (no ReduceMean)")
            }
            for i in list {
                let n = nodes[i]
                guard n.opType == "Mul" || n.opType == "Add" else { continue }
                for k in n.inputs.indices {
                    if let t = weight(i, k), t.dims.count == 1, t.elementCount > 1 {
                        if n.opType == "Mul" {
                            guard w == nil else { throw fail("\(place) has two weight Muls") }
                            w = t
                        } else {
                            guard b == nil else { throw fail("\(place) has two bias Adds") }
                            b = t
                        }
                        used.insert(Use(node: i, input: k))
                    } else if n.opType == "Add", let e = index.scalarFloat(n.inputs[k]) {
                        guard eps == nil else { throw fail("\(place) has two epsilon Adds") }
                        eps = e
                    }
                }
            }
        }
        guard let w, w.dims == [hidden] else { throw fail("\(place) has no weight of \(hidden) values") }
        guard let b, b.dims == [hidden] else { throw fail("\(place) has no bias of \(hidden) values") }
        guard let eps, eps > 0 else { throw fail("\(place) has no epsilon") }
        return Norm(weight: .tensor(w), bias: .tensor(b), eps: eps)
    }

    func firstWeight(in list: [Int], op: String, rank: Int) -> (Int, Int, ONNXTensor)? {
        for i in list where nodes[i].opType == op {
            for k in nodes[i].inputs.indices {
                if let t = weight(i, k), t.dims.count == rank { return (i, k, t) }
            }
        }
        return nil
    }

    /// The MLP activation from the operators between the two projections: `Erf` (or `Gelu` without
    /// approximation) is exact GELU, `Tanh` (or `Gelu(approximate="tanh")`) the tanh approximation.
    func activation(layer l: Int, nodes list: [Int], swiglu: Bool) throws -> String {
        let ops = Set(list.map { nodes[$0].opType })
        if swiglu {
            guard ops.contains("Sigmoid") || ops.contains("Silu") else { throw fail("layer \(l) SwiGLU MLP has no SiLU (Sigmoid) node") }
            return "gelu"  // unused by Dinov2SwiGLUFFN; the config keeps its default
        }
        if let i = list.first(where: { nodes[$0].opType == "Gelu" }) {
            return nodes[i].string("approximate") == "tanh" ? "gelu_pytorch_tanh" : "gelu"
        }
        if ops.contains("Erf") { return "gelu" }
        if ops.contains("Tanh") { return "gelu_pytorch_tanh" }
        if ops.contains("Sigmoid") { throw fail("layer \(l) MLP activation uses Sigmoid (quick_gelu or SiLU); only GELU is supported") }
        throw fail("layer \(l) has no GELU activation (Erf, Tanh or Gelu node) in its MLP (found \(ops.sorted()))")
    }

    /// The number of heads: from the shape constant of the Reshape that splits the query, key or
    /// value into `[batch, tokens, heads, head_dim]` (either of the last two may be -1), else from
    /// the attention scale constant: one `Mul` by `1/sqrt(d)`, one `Div` by `sqrt(d)`, or (the
    /// exported SDPA) two `Mul`s by `d^(-1/4)` on the query and the key.
    func heads(layer l: Int, parts: [LayerPart: [Int]], attentionNodes: [Int], hidden: Int) throws -> Int {
        var outputs = Set<String>()
        for part in [LayerPart.query, .key, .value] {
            for i in parts[part] ?? [] { outputs.formUnion(nodes[i].outputs) }
        }
        var found: [Int] = []
        for value in outputs {
            for c in index.consumers(of: value) where nodes[c].opType == "Reshape" && nodes[c].inputs.count > 1 {
                guard let v = index.shapeVector(nodes[c].inputs[1]), v.count >= 2 else { continue }
                if let h = Self.headsFromReshape(v[v.count - 2], v[v.count - 1], hidden: hidden) { found.append(h) }
            }
        }
        if let h = found.first {
            guard found.allSatisfy({ $0 == h }) else { throw fail("layer \(l) reshapes query/key/value into different head counts \(Set(found).sorted())") }
            return h
        }
        // Scale constants in the attention core.
        var muls: [Float] = [], divs: [Float] = []
        for i in attentionNodes where nodes[i].opType == "Mul" || nodes[i].opType == "Div" {
            for input in nodes[i].inputs {
                guard let s = index.scalarFloat(input), s > 0, s != 1 else { continue }
                if nodes[i].opType == "Mul" { muls.append(s) } else { divs.append(s) }
            }
        }
        var headDim: Double?
        if divs.count == 1, muls.isEmpty { headDim = Double(divs[0]) * Double(divs[0]) }
        if muls.count == 1, divs.isEmpty { headDim = 1 / (Double(muls[0]) * Double(muls[0])) }
        if muls.count == 2, divs.isEmpty, muls[0] == muls[1] { headDim = 1 / pow(Double(muls[0]), 4) }
        if let d = headDim, let h = Self.headsFromHeadDim(d, hidden: hidden) { return h }
        throw fail("cannot infer the number of attention heads in layer \(l): no Reshape to [.., heads, head_dim] and no recognisable scale constant")
    }

    /// The head count a Reshape's last two entries `[.., heads, head_dim]` give for width `hidden`
    /// (either entry may be unknown or -1), or nil. The product is checked: entries come from the file.
    static func headsFromReshape(_ a: Int64?, _ b: Int64?, hidden: Int) -> Int? {
        let width = Int64(hidden)
        if let a, let b, a > 0, b > 0 {
            let (product, overflow) = a.multipliedReportingOverflow(by: b)
            return !overflow && product == width ? Int(a) : nil
        }
        if let a, a > 0, b == nil || b == -1 { return width % a == 0 ? Int(a) : nil }
        if a == nil || a == -1, let b, b > 0 { return width % b == 0 ? Int(width / b) : nil }
        return nil
    }

    /// The head count for a head width `headDim` read from a scale constant (within 0.1% of an
    /// integer that divides `hidden`), or nil; never converts a value above `hidden` to `Int`.
    static func headsFromHeadDim(_ headDim: Double, hidden: Int) -> Int? {
        let r = headDim.rounded()
        guard r >= 1, r <= Double(hidden), abs(headDim - r) < 1e-3 * r, hidden % Int(r) == 0 else { return nil }
        return hidden / Int(r)
    }

    /// CLS token, optional mask token, and position embeddings. These are named initializers
    /// (`embeddings.cls_token`) or anonymous ones the exporter folded: a `[1, 1, D]` consumed by
    /// `Expand` is the CLS token; a `[1, 1, D]` consumed by `Concat` is the CLS row of the position
    /// table and a `[1, G, D]` its patch grid (DINOv2's interpolation split), concatenated back to
    /// `[1, 1 + G, D]`; a lone `[1, M, D]` is the whole table. Returns the grid side `sqrt(G)`.
    func embeddings(_ list: [Int], prefix: [String], hidden: Int, family: BackboneFamily,
                            weights: inout [String: WeightSource], synthesized: inout [String], used: inout Set<Use>) throws -> Int {
        let namePrefix = prefix.isEmpty ? "" : prefix.joined(separator: ".") + "."
        var cls: ONNXTensor?, mask: ONNXTensor?, table: ONNXTensor?, posCLS: ONNXTensor?, anonymousTables: [ONNXTensor] = []
        func set(_ slot: inout ONNXTensor?, _ t: ONNXTensor, _ what: String) throws {
            if let s = slot, s.name != t.name { throw fail("embeddings have two \(what) candidates ('\(s.name)', '\(t.name)')") }
            slot = t
        }
        for i in list {
            let n = nodes[i]
            for k in n.inputs.indices {
                guard let t = weight(i, k), t.elementCount > 1 else { continue }
                var name = t.name
                if name.hasPrefix(namePrefix) { name.removeFirst(namePrefix.count) }
                used.insert(Use(node: i, input: k))
                switch name {
                case "embeddings.cls_token": try set(&cls, t, "CLS token")
                case "embeddings.mask_token": try set(&mask, t, "mask token")
                case PublicKeyTables.positionEmbeddings: try set(&table, t, "position table")
                case "embeddings.register_tokens": throw fail("register tokens (DINOv2 with registers) are not supported")
                case "embeddings.distillation_token": throw fail("a distillation token (DeiT) is not supported")
                default:
                    guard t.dims.count == 3, t.dims[0] == 1, t.dims[2] == hidden else {
                        throw fail("embeddings weight '\(t.name)' \(t.dims) consumed by \(n.opType) has no Hugging Face name")
                    }
                    if t.dims[1] == 1, n.opType == "Expand" {
                        try set(&cls, t, "CLS token")
                    } else if t.dims[1] == 1, n.opType == "Concat" {
                        try set(&posCLS, t, "CLS position")
                    } else if t.dims[1] > 1, !anonymousTables.contains(where: { $0.name == t.name }) {
                        anonymousTables.append(t)
                    } else if t.dims[1] == 1 {
                        throw fail("embeddings weight '\(t.name)' [1, 1, \(hidden)] consumed by \(n.opType) is neither a CLS token (Expand) nor a CLS position (Concat)")
                    }
                }
            }
        }
        guard let cls, cls.dims == [1, 1, hidden] else { throw fail("no CLS token [1, 1, \(hidden)] in the embeddings") }
        weights["embeddings.cls_token"] = .tensor(cls)
        guard anonymousTables.count <= 1 else { throw fail("embeddings hold \(anonymousTables.count) position tables") }
        let side: Int
        if let posCLS {
            guard table == nil, let gridPart = anonymousTables.first else {
                throw fail("a CLS position row without a patch-grid position table in the embeddings")
            }
            let g = gridPart.dims[1]
            side = Int(Double(g).squareRoot().rounded())
            guard side * side == g else { throw fail("the position grid has \(g) entries, not a square") }
            weights[PublicKeyTables.positionEmbeddings] = WeightSource(
                parts: [.tensor(posCLS, transpose: false), .tensor(gridPart, transpose: false)], shape: [1, 1 + g, hidden])
        } else {
            if table == nil, let t = anonymousTables.first { table = t } else if table != nil, !anonymousTables.isEmpty {
                throw fail("embeddings hold two position tables")
            }
            guard let table, table.dims.count == 3, table.dims[0] == 1, table.dims[2] == hidden else {
                throw fail("no position embeddings in the embeddings")
            }
            let g = table.dims[1] - 1
            side = Int(Double(g).squareRoot().rounded())
            guard g > 0, side * side == g else { throw fail("the position table has \(table.dims[1]) rows: CLS plus \(g), not a square grid") }
            weights[PublicKeyTables.positionEmbeddings] = .tensor(table)
        }
        if let mask {
            guard mask.elementCount == hidden else { throw fail("mask token has shape \(mask.dims)") }
            weights["embeddings.mask_token"] = WeightSource(parts: [.tensor(mask, transpose: false)], shape: [1, hidden])
        } else if family == .dinov2 {
            // Dinov2Model always has a mask token (used only for masked pretraining); the exporter drops
            // it as unused. Write Hugging Face's initial value, zeros, so the folder is complete.
            weights["embeddings.mask_token"] = WeightSource(parts: [.zeros(hidden)], shape: [1, hidden])
            synthesized.append("embeddings.mask_token")
        }
        return side
    }
}
