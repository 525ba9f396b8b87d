import Foundation
import Testing
import ViTLens
import ViTLensTestSupport
@testable import ViTLensWeb

/// The fixture models and one report built from them, shared by the report tests.
enum ReportFixture {
    static let vit = Fixtures.url("models/vit-p16-cls").path
    static let bert = Fixtures.url("models/bert-tiny").path
    static let photos = ["photos/rocket.jpg", "photos/astronaut.png"].map { Fixtures.repositoryRoot.appendingPathComponent($0).path }
    static let sentence = "The animal didn't cross the street because it was too tired"

    static let imageSession: AnalysisSession? = try? AnalysisSession(model: vit)
    static let textSession: AnalysisSession? = try? AnalysisSession(model: bert)

    /// The fixture sessions, or a test failure.
    static func sessions() throws -> (image: AnalysisSession, text: AnalysisSession) {
        (try #require(imageSession), try #require(textSession))
    }

    /// Two photos and a sentence through the fixture models.
    static func report() throws -> Report {
        let s = try sessions()
        return try ReportJob().run(imageModel: s.image, images: photos, textModel: s.text, texts: [sentence])
    }

    /// The JSON inside `<script type="application/json" ... id="ID-data">` of `html`.
    static func embeddedJSON(_ html: String, id: String) throws -> Data {
        let open = "id=\"\(id)-data\">"
        let start = try #require(html.range(of: open))
        let end = try #require(html.range(of: "</script>", range: start.upperBound ..< html.endIndex))
        return Data(html[start.upperBound ..< end.lowerBound].utf8)
    }

    /// Every match of the first capture group of `pattern` in `text`.
    static func captures(_ pattern: String, in text: String) throws -> [String] {
        let regex = try NSRegularExpression(pattern: pattern, options: [.caseInsensitive])
        let ns = text as NSString
        return regex.matches(in: text, range: NSRange(location: 0, length: ns.length)).map { ns.substring(with: $0.range(at: 1)) }
    }
}

/// The image JSON of the page, as the tests read it back.
struct EmbeddedImage: Decodable {
    struct Array: Decodable {
        var shape: [Int]
        var values: [Float]
    }
    struct Masks: Decodable {
        var shape: [Int]
        var values: [UInt8]
    }
    struct Score: Decodable {
        var index: Int
        var label: String
        var probability: Double
    }
    var name: String
    var clsMaps: Array
    var rollout: Array
    var masks: Masks
    var keptMass: [Double]
    var meanAttentionDistance: Array
    var prediction: [Score]?

    static func decode(_ data: Data) throws -> EmbeddedImage {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(EmbeddedImage.self, from: data)
    }
}
