import Foundation
import Testing
@testable import ViTLensCheckpoint

/// Headers a hostile or broken file may carry: duplicate keys, a header above the reference
/// reader's 100 MB limit, and the inputs the fuzzer (`Fuzz/SafeTensors`) turned up.
@Suite("SafeTensors hostile headers")
struct SafeTensorsHostileHeaderTests {
    let dir: TemporaryDirectory
    init() throws { dir = try TemporaryDirectory() }

    func file(_ header: String, data: [UInt8] = [0, 0, 0, 0]) throws -> URL {
        try dir.write("t.safetensors", RawSafeTensors.bytes(header: header, data: data))
    }

    @Test func duplicateTensorNameIsRefused() throws {
        // Python's json (and so safetensors' reader in Python tools) keeps the last entry; we refuse.
        let header = "{" + RawSafeTensors.entry("a.weight", "F32", [1], 0, 4) + ","
            + RawSafeTensors.entry("a.weight", "F16", [2], 0, 4) + "}"
        let url = try file(header)
        #expect(throws: CheckpointError.duplicateKey(file: url.path, key: "a.weight", object: nil)) { try SafeTensorsFile(contentsOf: url) }
        let message = "\(thrownError { try SafeTensorsFile(contentsOf: url) }!)"
        #expect(message == "\(url.path): bad safetensors header: key 'a.weight' appears twice")
    }

    @Test func duplicateKeyInsideAnEntryIsRefused() throws {
        let url = try file("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,4]}}")
        #expect(throws: CheckpointError.duplicateKey(file: url.path, key: "dtype", object: "a")) { try SafeTensorsFile(contentsOf: url) }
        #expect("\(thrownError { try SafeTensorsFile(contentsOf: url) }!)".hasSuffix("key 'dtype' appears twice in the entry of 'a'"))
    }

    @Test func duplicateKeysSpelledDifferentlyAreStillDuplicates() throws {
        // "\u0061" is "a"; precomposed and decomposed "é" are canonically equivalent (one Swift key).
        let escaped = try file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"\\u0061\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}")
        #expect(throws: CheckpointError.duplicateKey(file: escaped.path, key: "a", object: nil)) { try SafeTensorsFile(contentsOf: escaped) }
        let metadata = try file("{\"__metadata__\":{\"caf\u{E9}\":\"1\",\"cafe\u{301}\":\"2\"}}", data: [])
        #expect(throws: CheckpointError.duplicateKey(file: metadata.path, key: "caf\u{E9}", object: "__metadata__")) {
            try SafeTensorsFile(contentsOf: metadata)
        }
    }

    @Test func distinctKeysInDifferentObjectsAreFine() throws {
        let header = "{\"__metadata__\":{\"dtype\":\"x\"}," + RawSafeTensors.entry("a", "F32", [1], 0, 4) + ","
            + RawSafeTensors.entry("b", "F32", [0], 4, 4) + "}"
        let file = try SafeTensorsFile(contentsOf: try file(header))
        #expect(file.names == ["a", "b"])
        #expect(file.metadata == ["dtype": "x"])
    }

    @Test func headerAboveTheReferenceLimitIsRefused() throws {
        // A sparse file: 8 length bytes, then 100,000,001 bytes of (unread) header.
        let length = UInt64(SafeTensorsFile.maxHeaderLength + 1)
        let url = try dir.write("big.safetensors", RawSafeTensors.bytes(header: "", headerLength: length))
        let handle = try FileHandle(forWritingTo: url)
        try handle.truncate(atOffset: 8 + length)
        try handle.close()
        #expect(throws: CheckpointError.headerTooLarge(file: url.path, headerLength: length, limit: 100_000_000)) {
            try SafeTensorsFile(contentsOf: url)
        }
        #expect("\(thrownError { try SafeTensorsFile(contentsOf: url) }!)"
            == "\(url.path): safetensors header length 100000001 is above the limit of 100000000 bytes")
    }
}
