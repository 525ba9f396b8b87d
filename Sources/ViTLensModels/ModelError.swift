/// A model's `config.json` cannot be used: a missing or ill-typed field, a value out of range, or
/// a `model_type` no family handles. Every case prints as one line that names the file.
public enum ModelError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A config file lacks a field the model needs.
    case configMissingField(file: String, field: String)
    /// A config file holds a value the model cannot use.
    case configInvalid(file: String, reason: String)
    /// `config.json` names a `model_type` that no family handles.
    case unknownModelType(file: String, type: String)
    /// The architecture flags (``DINOPreset``) do not fit together.
    case presetInvalid(reason: String)
    /// A checkpoint read with a preset has a tensor the preset does not expect.
    case presetMismatch(file: String, reason: String)

    /// One line naming the file and the problem.
    public var description: String {
        switch self {
        case .configMissingField(let file, let field):
            return "\(file): missing field '\(field)'"
        case .configInvalid(let file, let reason):
            return "\(file): invalid config: \(reason)"
        case .unknownModelType(let file, let type):
            return "\(file): unknown model_type '\(type)' (supported: \(ModelLoader.supportedModelTypes.joined(separator: ", ")))"
        case .presetInvalid(let reason):
            return "invalid architecture flags: \(reason)"
        case .presetMismatch(let file, let reason):
            return "\(file): \(reason)"
        }
    }
}
