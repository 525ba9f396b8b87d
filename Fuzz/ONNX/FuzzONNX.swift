import Foundation
import FuzzSupport
import ViTLensONNX

/// libFuzzer target: ONNX protobuf bytes through `ONNXModel(data:file:)`, every initializer and
/// tensor attribute read as floats and integers, then the backbone analysis the importer runs
/// (weights materialised, nothing written).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ input: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let model = try? ONNXModel(data: FuzzInput.data(input, size), file: "fuzz.onnx") else { return 0 }
    for name in model.graph.initializerNames {
        guard let tensor = model.graph.initializers[name] else { continue }
        _ = try? tensor.floatValues()
        _ = try? tensor.int64Values()
    }
    for node in model.graph.nodes {
        for attribute in node.attributes {
            if case .tensor(let tensor) = attribute.value {
                _ = try? tensor.floatValues()
                _ = try? tensor.int64Values()
            }
        }
    }
    _ = try? ONNXImporter.dryRun(model)
    return 0
}

@main
enum Main {
    static func main() { FuzzDriver.run(fuzz) }
}
