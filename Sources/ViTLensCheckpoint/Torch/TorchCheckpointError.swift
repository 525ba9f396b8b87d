/// A PyTorch checkpoint (`torch.save` file) that ViTLens refuses: not a state dict, a pickle that
/// asks for anything but tensors and plain containers, or a zip archive or storage that does not
/// hold together. ``description`` is one line naming the file and the problem, e.g.
/// `model.pth: refuses pickle global os.system (not a state dict)`.
public struct TorchCheckpointError: Error, CustomStringConvertible, Equatable {
    /// The checkpoint file.
    public var file: String
    /// What is wrong, without the file name.
    public var reason: String

    /// An error about `file`.
    public init(file: String, reason: String) {
        self.file = file
        self.reason = reason
    }

    public var description: String { "\(file): \(reason)" }
}
