import Testing
@testable import ViTLensText

@Suite struct JSONParserTests {
    private func parse(_ text: String) throws(JSONSyntaxError) -> JSONValue { try JSONParser.parse(Array(text.utf8)) }

    @Test func escapesAndSurrogatePairs() throws {
        let value = try parse(#"{"s": "a\"b\\c\/d\n\t\u00e9\ud83d\ude00", "n": -1.5e2, "t": [true, false, null]}"#)
        guard case .string(let text)? = value["s"] else { Issue.record("no string"); return }
        #expect(scalars(text) == scalars("a\"b\\c/d\n\t\u{E9}\u{1F600}"))
        guard case .number(let number)? = value["n"] else { Issue.record("no number"); return }
        #expect(number == -150)
        guard case .array(let items)? = value["t"] else { Issue.record("no array"); return }
        #expect(items.count == 3 && items[2].isNull)
    }

    @Test func objectsKeepOrderDuplicatesAndEquivalentKeys() throws {
        let value = try parse(#"{"\u00e9": 1, "e\u0301": 2, "k": 3, "k": 4}"#)
        guard case .object(let members) = value else { Issue.record("not an object"); return }
        #expect(members.map { scalars($0.key) } == [[0xE9], [0x65, 0x301], [0x6B], [0x6B]])
        guard case .number(let last)? = value["k"] else { Issue.record("no k"); return }
        #expect(last == 4)
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
            _ = try JSONParser.parse([0x22, 0x61, 0xC3, 0x28, 0x22])
            Issue.record("no error")
        } catch {
            #expect(error.message == "invalid UTF-8 in a string")
            #expect(error.offset == 1)
        }
    }
}
