import ViTLensModels

/// Step 5 of ``BackboneAnalyzer/analyze()``: the weights, activation and heads of each encoder layer.
extension BackboneAnalyzer {
    /// Step 5: one encoder layer's weights, activation and heads.
    func layer(_ l: Int, _ layers: LayerGroups, hidden: Int, draft: inout Draft) throws {
        let parts = layers.parts[l] ?? [:]
        let key = layers.family.keys.layer(l) + "."
        try attention(l, parts, key: key, family: layers.family, hidden: hidden, draft: &draft)
        for part in [LayerPart.norm1, .norm2] {
            let norm = try self.norm(parts[part] ?? [], where: "layer \(l) \(part.label)", hidden: hidden, used: &draft.used)
            draft.weights[key + part.hubKey(layers.family) + ".weight"] = norm.weight
            draft.weights[key + part.hubKey(layers.family) + ".bias"] = norm.bias
            draft.eps.append(norm.eps)
        }
        try layerScales(l, parts, key: key, family: layers.family, hidden: hidden, draft: &draft)
        let isSwiGLU = parts[.swigluIn] != nil || parts[.swigluGate] != nil || parts[.swigluUp] != nil
        try Draft.agree(&draft.swiglu, isSwiGLU) { _ in fail("layer \(l) differs from layer 0 in using a SwiGLU MLP") }
        let mlpHidden = isSwiGLU ? try swiGLU(l, parts, key: key, family: layers.family, hidden: hidden, draft: &draft)
                                 : try plainMLP(l, parts, key: key, family: layers.family, hidden: hidden, draft: &draft)
        try Draft.agree(&draft.intermediate, mlpHidden) { fail("layer \(l) MLP has \(mlpHidden) hidden features, layer 0 has \($0)") }

        let other = layers.other[l] ?? []
        let layerAct = try activation(layer: l, nodes: other.filter { !$0.path.hasPrefix("attention") }.map(\.node), swiglu: isSwiGLU)
        try Draft.agree(&draft.act, layerAct) { fail("layer \(l) uses \(layerAct), layer 0 uses \($0)") }
        let layerHeads = try heads(layer: l, parts: parts, attentionNodes: other.filter { $0.path.hasPrefix("attention") }.map(\.node), hidden: hidden)
        try Draft.agree(&draft.heads, layerHeads) { fail("layer \(l) has \(layerHeads) heads, layer 0 has \($0)") }
    }

    /// Step 5a: query, key, value and attention output projections.
    func attention(_ l: Int, _ parts: [LayerPart: [Int]], key: String, family: BackboneFamily, hidden: Int,
                           draft: inout Draft) throws {
        var qkvBiases: [Bool] = []
        for part in [LayerPart.query, .key, .value, .attentionOutput] {
            let lin = try linear(parts[part] ?? [], where: "layer \(l) \(part.label)", used: &draft.used)
            guard let w = lin.weight else { throw fail("layer \(l) has no \(part.label) MatMul") }
            guard w.shape == [hidden, hidden] else { throw fail("layer \(l) \(part.label) weight is \(w.shape) after transposing, expected [\(hidden), \(hidden)]") }
            draft.weights[key + part.hubKey(family) + ".weight"] = w
            if let b = lin.bias {
                guard b.shape == [hidden] else { throw fail("layer \(l) \(part.label) bias has shape \(b.shape), expected [\(hidden)]") }
                draft.weights[key + part.hubKey(family) + ".bias"] = b
            } else if part == .attentionOutput {
                throw fail("layer \(l) attention output has no bias Add")
            }
            if part != .attentionOutput { qkvBiases.append(lin.bias != nil) }
        }
        guard Set(qkvBiases).count == 1 else { throw fail("layer \(l) has biases on only some of query, key and value") }
        try Draft.agree(&draft.qkvBias, qkvBiases[0]) { _ in fail("layer \(l) differs from layer 0 in having query/key/value biases") }
    }

    /// Step 5b: DINOv2's layer scales (a ViT layer must have none).
    func layerScales(_ l: Int, _ parts: [LayerPart: [Int]], key: String, family: BackboneFamily, hidden: Int,
                             draft: inout Draft) throws {
        for part in [LayerPart.layerScale1, .layerScale2] {
            let list = parts[part] ?? []
            if family == .vit {
                guard list.isEmpty else { throw fail("layer \(l) has a \(part.label) Mul, which ViT layers do not have") }
                continue
            }
            guard let (i, k, t) = firstWeight(in: list, op: "Mul", rank: 1), t.dims == [hidden] else {
                throw fail("layer \(l) has no \(part.label) Mul with \(hidden) values")
            }
            draft.used.insert(Use(node: i, input: k))
            draft.weights[key + part.hubKey(family)] = .tensor(t)
        }
    }

    /// Step 5c: a SwiGLU MLP (fused `weights_in`, or 5.x gate and up halves); returns its width.
    func swiGLU(_ l: Int, _ parts: [LayerPart: [Int]], key: String, family: BackboneFamily, hidden: Int,
                        draft: inout Draft) throws -> Int {
        guard family == .dinov2 else { throw fail("layer \(l) has a SwiGLU MLP, which ViT layers do not have") }
        guard parts[.fc1] == nil, parts[.fc2] == nil else { throw fail("layer \(l) has both a SwiGLU and a plain MLP") }
        func linear(_ part: LayerPart) throws -> Linear {
            try self.linear(parts[part] ?? [], where: "layer \(l) \(part.label)", used: &draft.used)
        }
        let inW: WeightSource, inB: WeightSource
        if parts[.swigluIn] != nil {
            let lin = try linear(.swigluIn)
            guard let w = lin.weight, let b = lin.bias else { throw fail("layer \(l) has no SwiGLU weights_in MatMul and bias") }
            guard w.shape.count == 2, w.shape[1] == hidden, w.shape[0] % 2 == 0, b.shape == [w.shape[0]] else {
                throw fail("layer \(l) SwiGLU weights_in is \(w.shape), expected [2 * hidden features, \(hidden)]")
            }
            (inW, inB) = (w, b)
        } else {
            let gate = try linear(.swigluGate), up = try linear(.swigluUp)
            guard let gw = gate.weight, let gb = gate.bias else { throw fail("layer \(l) has no SwiGLU gate_proj MatMul and bias") }
            guard let uw = up.weight, let ub = up.bias else { throw fail("layer \(l) has no SwiGLU up_proj MatMul and bias") }
            guard gw.shape.count == 2, gw.shape == uw.shape, gw.shape[1] == hidden, gb.shape == [gw.shape[0]], ub.shape == gb.shape else {
                throw fail("layer \(l) SwiGLU gate_proj \(gw.shape) and up_proj \(uw.shape) do not match")
            }
            // Hub `weights_in` = [gate; up] along the output axis (transformers `Chunk(dim=0)`).
            inW = WeightSource(parts: gw.parts + uw.parts, shape: [2 * gw.shape[0], hidden])
            inB = WeightSource(parts: gb.parts + ub.parts, shape: [2 * gb.shape[0]])
        }
        let mlpHidden = inW.shape[0] / 2
        draft.weights[key + LayerPart.swigluIn.hubKey(family) + ".weight"] = inW
        draft.weights[key + LayerPart.swigluIn.hubKey(family) + ".bias"] = inB
        let out = try linear(.swigluOut)
        guard let ow = out.weight, let ob = out.bias else { throw fail("layer \(l) has no SwiGLU weights_out MatMul and bias") }
        guard ow.shape == [hidden, mlpHidden], ob.shape == [hidden] else { throw fail("layer \(l) SwiGLU weights_out is \(ow.shape), expected [\(hidden), \(mlpHidden)]") }
        draft.weights[key + LayerPart.swigluOut.hubKey(family) + ".weight"] = ow
        draft.weights[key + LayerPart.swigluOut.hubKey(family) + ".bias"] = ob
        return mlpHidden
    }

    /// Step 5c': a plain two-layer MLP; returns its width.
    func plainMLP(_ l: Int, _ parts: [LayerPart: [Int]], key: String, family: BackboneFamily, hidden: Int,
                          draft: inout Draft) throws -> Int {
        let fc1 = try linear(parts[.fc1] ?? [], where: "layer \(l) \(LayerPart.fc1.label)", used: &draft.used)
        let fc2 = try linear(parts[.fc2] ?? [], where: "layer \(l) \(LayerPart.fc2.label)", used: &draft.used)
        guard let w1 = fc1.weight, let b1 = fc1.bias else { throw fail("layer \(l) has no \(LayerPart.fc1.label) MatMul and bias") }
        guard let w2 = fc2.weight, let b2 = fc2.bias else { throw fail("layer \(l) has no \(LayerPart.fc2.label) MatMul and bias") }
        guard w1.shape.count == 2, w1.shape[1] == hidden, b1.shape == [w1.shape[0]] else { throw fail("layer \(l) MLP input weight is \(w1.shape), expected [intermediate, \(hidden)]") }
        let mlpHidden = w1.shape[0]
        guard w2.shape == [hidden, mlpHidden], b2.shape == [hidden] else { throw fail("layer \(l) MLP output weight is \(w2.shape), expected [\(hidden), \(mlpHidden)]") }
        draft.weights[key + LayerPart.fc1.hubKey(family) + ".weight"] = w1
        draft.weights[key + LayerPart.fc1.hubKey(family) + ".bias"] = b1
        draft.weights[key + LayerPart.fc2.hubKey(family) + ".weight"] = w2
        draft.weights[key + LayerPart.fc2.hubKey(family) + ".bias"] = b2
        return mlpHidden
    }
}
