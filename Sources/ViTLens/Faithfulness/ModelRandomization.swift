import Foundation

/// Weight-shuffled copies of a checkpoint for the model-randomisation sanity check (Adebayo et
/// al. 2018, "Sanity Checks for Saliency Maps"): an explanation that barely changes when the
/// weights are destroyed does not explain the model.
///
/// Each selected tensor's values are permuted in place (a seeded Fisher-Yates shuffle of its
/// flattened values: the weight distribution is kept, its structure destroyed), tensors taken in
/// sorted name order from one ``SeededRandom`` so a seed always gives the same copy. The copy is
/// written as float32 `model.safetensors` next to copies of `config.json` and
/// `preprocessor_config.json`.
public enum ModelRandomization {
    /// Writes a shuffled copy of `files` into `folder` (created if needed) and returns its files.
    /// - Throws: ``FaithfulnessError/randomizedLayers(_:layers:)`` for a layer count outside
    ///   `1 ... layers`, checkpoint read errors, ``CheckpointWriteError``, or a file-system error.
    public static func shuffledCopy(of files: ModelFiles, randomization: WeightRandomization, seed: UInt64,
                                    into folder: URL) throws -> ModelFiles {
        // safetensors, or a torch.save state dict (read without executing code); written back as safetensors.
        let archive = try TensorSources.open(files.weights, stateDictKey: files.stateDictKey)
        let names = archive.names.sorted()
        let layers = (names.compactMap(WeightRandomization.layerIndex).max() ?? -1) + 1
        if case .topLayers(let k) = randomization, k < 1 || k > layers {
            throw FaithfulnessError.randomizedLayers(k, layers: layers)
        }
        var rng = SeededRandom(seed: seed)
        var tensors: [String: Tensor] = [:]
        for name in names {
            guard let shape = archive.shape(of: name) else { continue }
            var values = try archive.floats(name, requireFinite: false)
            if randomization.selects(name, layers: layers) { rng.shuffle(&values) }
            tensors[name] = Tensor(shape: shape, values: values)
        }
        let fm = FileManager.default
        try fm.createDirectory(at: folder, withIntermediateDirectories: true)
        // A DINO preset's config comes from flags (its `config` URL is the weights file): write it out.
        if let data = files.configData {
            try data.write(to: folder.appendingPathComponent("config.json"), options: .atomic)
        }
        for source in [files.configData == nil ? files.config : nil, files.preprocessorConfig].compactMap({ $0 }) {
            let target = folder.appendingPathComponent(source.lastPathComponent)
            if fm.fileExists(atPath: target.path) { try fm.removeItem(at: target) }
            try fm.copyItem(at: source, to: target)
        }
        try SafeTensorsWriter.write(tensors, metadata: ["format": "pt", "vitlens": "shuffled \(randomization.name) seed \(seed)"],
                                    to: folder.appendingPathComponent(SafeTensorsArchive.singleFileName))
        return try ModelFiles(directory: folder)
    }
}
