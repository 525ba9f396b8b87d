import Testing
@testable import ViTLensCore

@Suite struct JSONReaderTests {
    private func parse(_ text: String, _ options: JSONReader.Options = .init()) throws(JSONReadError) -> JSONValue {
        try JSONReader.parse(Array(text.utf8), options: options)
    }

    private func scalars(_ text: String) -> [UInt32] { text.unicodeScalars.map(\.value) }

    @Test func escapesAndSurrogatePairs() throws {
        let value = try parse(#"{"s": "a\"b\\c\/d\n\t\u00e9\ud83d\ude00", "n": -1.5e2, "t": [true, false, null]}"#)
        guard case .string(let text)? = value["s"] else { Issue.record("no string"); return }
        #expect(scalars(text) == scalars("a\"b\\c/d\n\t\u{E9}\u{1F600}"))
        guard case .float(let number)? = value["n"] else { Issue.record("no number"); return }
        #expect(number == -150)
        guard case .array(let items)? = value["t"] else { Issue.record("no array"); return }
        #expect(items.count == 3 && items[2].isNull)
    }

    @Test func objectsKeepOrderAndEquivalentKeys() throws {
        let value = try parse(#"{"\u00e9": 1, "e\u0301": 2, "k": 3}"#)
        guard case .object(let members) = value else { Issue.record("not an object"); return }
        #expect(members.map { scalars($0.key) } == [[0xE9], [0x65, 0x301], [0x6B]])
        #expect(value["e\u{301}"]?.integral == 2 && value["\u{E9}"]?.integral == 1)
    }

    @Test func duplicateKeysAreRefusedWithTheirObject() {
        do {
            _ = try parse(#"{"model": {"k": 3, "\u006b": 4}}"#)
            Issue.record("no error")
        } catch {
            #expect(error.duplicateKey == JSONReadError.DuplicateKey(key: "k", object: "model"))
            #expect(error.description == "key 'k' appears twice in the object of 'model' at byte 19")
        }
    }

    @Test func canonicalEquivalenceIsOptional() throws {
        let text = "{\"caf\u{E9}\": 1, \"cafe\u{301}\": 2}"
        _ = try parse(text)
        #expect(throws: JSONReadError.self) { try parse(text, .init(keyEquality: .canonicalEquivalence)) }
    }

    @Test func integersAndFloatsStayApart() throws {
        let value = try parse(#"[1, 1.0, 1e0, -0, 99999999999999999999]"#)
        guard case .array(let items) = value, items.count == 5 else { Issue.record("not 5 items"); return }
        guard case .integer(1) = items[0], case .float(1) = items[1], case .float(1) = items[2], case .integer(0) = items[3],
              case .float(1e20) = items[4] else { Issue.record("wrong kinds: \(items)"); return }
        #expect(items.map(\.integral) == [1, 1, 1, 0, nil])
    }

    @Test func sizeAndDepthAreBounded() {
        var small = JSONReader.Options()
        small.maxBytes = 4
        #expect(throws: JSONReadError.self) { try parse("[1, 2]", small) }
        #expect(throws: JSONReadError.self) { try parse(String(repeating: "[", count: 600) + String(repeating: "]", count: 600)) }
        #expect((try? parse(String(repeating: "[", count: 500) + String(repeating: "]", count: 500))) != nil)
    }

    @Test(arguments: [
        ("", "unexpected end of data", 0),
        ("{\"a\" 1}", "expected ':'", 5),
        ("[1, 2", "unexpected end of data in an array", 5),
        ("01", "invalid number (leading zero)", 2),
        ("\"\\ud800\"", "lone surrogate in a \\u escape", 7),
        ("\"a\u{1}b\"", "control character in a string", 2),
        ("{} x", "unexpected data after the JSON value", 3),
        ("tru", "invalid literal", 0),
    ])
    func syntaxErrorsGiveTheirPosition(text: String, message: String, offset: Int) {
        do {
            _ = try parse(text)
            Issue.record("no error for \(text)")
        } catch {
            #expect(error.message == message)
            #expect(error.offset == offset)
        }
    }

    @Test func invalidUTF8InAString() {
        do {
            _ = try JSONReader.parse([0x22, 0x61, 0xC3, 0x28, 0x22])
            Issue.record("no error")
        } catch {
            #expect(error.message == "invalid UTF-8 in a string")
            #expect(error.offset == 1)
        }
    }
}
