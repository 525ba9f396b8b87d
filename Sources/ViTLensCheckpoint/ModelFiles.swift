import Foundation
import ViTLensCore

/// The files of one Hugging Face model folder, as found by ``ModelLocator``.
public struct ModelFiles: Sendable, Equatable {
    /// The folder (a local model folder or a Hub cache snapshot).
    public var directory: URL
    /// `config.json`.
    public var config: URL
    /// `model.safetensors`, `model.safetensors.index.json`, `pytorch_model.bin`, or the weights
    /// file given (`.safetensors` or a `torch.save` file such as `.pth`).
    public var weights: URL
    /// For a `torch.save` file holding several state dicts (`{"model": ..., "teacher": ...}`), the
    /// entry to read; `nil` picks one (see ``TorchCheckpoint/preferredKeys``).
    public var stateDictKey: String?
    /// `preprocessor_config.json` when the folder has one.
    public var preprocessorConfig: URL?
    /// The `config.json` bytes when they come from flags rather than a file (a DINO preset); then
    /// ``config`` is the weights file, which messages name.
    public var configData: Data?

    /// Collects the files of `directory`, with `weights` when given, else `model.safetensors`, else
    /// `model.safetensors.index.json`, else `pytorch_model.bin` (read as a `torch.save` state dict).
    /// - Throws: ``CheckpointError/fileNotFound(file:)`` naming `config.json` or
    ///   `model.safetensors` when the folder lacks it.
    public init(directory: URL, weights: URL? = nil) throws {
        let config = directory.appendingPathComponent("config.json")
        try CheckpointError.requireRegularFile(config.path)
        let single = directory.appendingPathComponent(SafeTensorsArchive.singleFileName)
        let index = directory.appendingPathComponent(SafeTensorsArchive.indexFileName)
        let chosen: URL
        if let weights {
            chosen = weights
        } else if UserFile.check(single.path) != .noSuchFile {
            try CheckpointError.requireRegularFile(single.path)
            chosen = single
        } else if UserFile.check(index.path) != .noSuchFile {
            try CheckpointError.requireRegularFile(index.path)
            chosen = index
        } else if UserFile.check(directory.appendingPathComponent(Self.torchFileName).path) != .noSuchFile {
            chosen = directory.appendingPathComponent(Self.torchFileName)
            try CheckpointError.requireRegularFile(chosen.path)
        } else {
            throw CheckpointError.fileNotFound(file: single.path)
        }
        let preprocessor = directory.appendingPathComponent("preprocessor_config.json")
        self.directory = directory
        self.config = config
        self.weights = chosen
        self.preprocessorConfig = UserFile.check(preprocessor.path) == .noSuchFile ? nil : preprocessor
    }

    /// A weights file without a `config.json`, whose config (`configData`) was made from flags.
    public init(weights: URL, configData: Data) {
        directory = weights.deletingLastPathComponent()
        config = weights
        self.weights = weights
        self.configData = configData
        preprocessorConfig = nil
    }

    /// The `config.json` bytes: ``configData``, else the file ``config``.
    /// - Throws: ``CheckpointError`` naming the file when it cannot be read.
    public func readConfig() throws -> Data {
        if let configData { return configData }
        do { return try UserFile.read(config.path) } catch { throw CheckpointError.file(config.path, error) }
    }

    /// The PyTorch weights file of a Hugging Face folder without safetensors.
    public static let torchFileName = "pytorch_model.bin"

    /// Another file of the folder (`tokenizer.json`, `vocab.txt`, ...) if it exists.
    public func file(_ name: String) -> URL? {
        guard SafeTensorsArchive.isSafeRelativePath(name) else { return nil }
        let url = directory.appendingPathComponent(name)
        return UserFile.check(url.path) == .noSuchFile ? nil : url
    }
}
