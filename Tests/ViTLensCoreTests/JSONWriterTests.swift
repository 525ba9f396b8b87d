import Testing
@testable import ViTLensCore

@Suite struct JSONWriterTests {
    let value = JSONValue.object([
        "b": .float(1), "a": .integers([1, 2]), "eps": .float(Double(String(describing: Float(1e-6))) ?? 0),
        "s": .string("q\"\\\n\u{1}é/"), "e": .array([]), "o": .object([]), "n": .null, "t": .bool(true),
    ])

    @Test func prettySortedKeepsIntegersAndFloatsApart() {
        let text = JSONWriter(pretty: true, sortedKeys: true).text(value)
        #expect(text == """
            {
              "a": [
                1,
                2
              ],
              "b": 1.0,
              "e": [],
              "eps": 1e-06,
              "n": null,
              "o": {},
              "s": "q\\"\\\\\\n\\u0001é/",
              "t": true
            }

            """)
    }

    @Test func compactKeepsBuildOrderAndReadsBack() throws {
        let text = JSONWriter(pretty: false, sortedKeys: false).text(value)
        #expect(text.hasPrefix(#"{"b":1.0,"a":[1,2],"eps":1e-06,"#))
        let back = try JSONReader.parse(Array(text.utf8))
        #expect(JSONWriter(pretty: false, sortedKeys: false).text(back) == text)
        #expect(back["s"]?.string == "q\"\\\n\u{1}é/")
    }

    @Test func floatsAreTheShortestTextThatReadsBack() {
        for x in [0.1, 0.02, 1.0 / 255.0, 1e16, -0.0, 5e-324] {
            let text = JSONWriter(pretty: false, sortedKeys: false).text(.float(x))
            #expect(Double(text) == x, "\(text)")
        }
    }
}
