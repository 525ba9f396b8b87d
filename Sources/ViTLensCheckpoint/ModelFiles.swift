import Foundation

/// The files of one Hugging Face model folder, as found by ``ModelLocator``.
public struct ModelFiles: Sendable, Equatable {
    /// The folder (a local model folder or a Hub cache snapshot).
    public var directory: URL
    /// `config.json`.
    public var config: URL
    /// `model.safetensors`, `model.safetensors.index.json`, or the `.safetensors` file given.
    public var weights: URL
    /// `preprocessor_config.json` when the folder has one.
    public var preprocessorConfig: URL?

    /// Collects the files of `directory`, with `weights` when given, else `model.safetensors`, else
    /// `model.safetensors.index.json`.
    /// - Throws: ``CheckpointError/fileNotFound(file:)`` naming `config.json` or
    ///   `model.safetensors` when the folder lacks it.
    public init(directory: URL, weights: URL? = nil) throws {
        let fm = FileManager.default
        let config = directory.appendingPathComponent("config.json")
        guard fm.fileExists(atPath: config.path) else { throw CheckpointError.fileNotFound(file: config.path) }
        let single = directory.appendingPathComponent(SafeTensorsArchive.singleFileName)
        let index = directory.appendingPathComponent(SafeTensorsArchive.indexFileName)
        let chosen: URL
        if let weights {
            chosen = weights
        } else if fm.fileExists(atPath: single.path) {
            chosen = single
        } else if fm.fileExists(atPath: index.path) {
            chosen = index
        } else {
            throw CheckpointError.fileNotFound(file: single.path)
        }
        let preprocessor = directory.appendingPathComponent("preprocessor_config.json")
        self.directory = directory
        self.config = config
        self.weights = chosen
        self.preprocessorConfig = fm.fileExists(atPath: preprocessor.path) ? preprocessor : nil
    }

    /// Another file of the folder (`tokenizer.json`, `vocab.txt`, ...) if it exists.
    public func file(_ name: String) -> URL? {
        guard SafeTensorsArchive.isSafeRelativePath(name) else { return nil }
        let url = directory.appendingPathComponent(name)
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }
}
