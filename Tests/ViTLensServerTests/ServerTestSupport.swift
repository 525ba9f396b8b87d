import Foundation
import ViTLens
import ViTLensTestSupport
@testable import ViTLensServer

/// Explorers over the fixture models, and uploads of the committed photos.
enum ServerFixtures {
    static func model(_ name: String, id: String = "0") throws -> ServedModel {
        ServedModel(id: id, name: name, session: try AnalysisSession(model: Fixtures.url("models/\(name)").path))
    }

    static func explorer(_ names: [String] = ["dinov2", "bert-tiny"], configure: (inout ServerConfiguration) -> Void = { _ in }) throws -> Explorer {
        var config = ServerConfiguration()
        config.token = "test-token"
        configure(&config)
        let models = try names.enumerated().map { try model($0.element, id: String($0.offset)) }
        return try Explorer(models: models, configuration: config)
    }

    static func photo(_ name: String = "grace_hopper.jpg") throws -> Data {
        try Data(contentsOf: Fixtures.repositoryRoot.appendingPathComponent("photos/\(name)"))
    }

    static let sentence = "The animal didn't cross the street because it was too tired"

    /// The full `[layers, heads, N, N]` stack the library's recorder sees for the same input, recorded
    /// beside the same analyses the upload runs (row statistics change the forward's blocking, and so
    /// the last bits; with the same observers the stored values must be identical).
    static func recorded(_ e: CachedInput) throws -> Tensor {
        var recorder = ObserverPair(AttentionRecorder(), ObserverPair(MeanAttentionDistance(), MeanAttentionDistance(renormalize: true)))
        if e.input.canvas != nil {
            try e.model.session.run(e.input, observer: &recorder)
        } else {
            try e.model.session.run(e.input, observer: &recorder.first)
        }
        return recorder.first.attentions
    }

    static func parameters(_ pairs: [String: String], _ allowed: Set<String>) throws -> QueryParameters {
        try QueryParameters(pairs.map { ($0.key, $0.value) }, allowed: allowed.union(["format"]))
    }
}
