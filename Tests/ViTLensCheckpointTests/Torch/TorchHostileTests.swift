import Foundation
import Testing
import ViTLensTestSupport
@testable import ViTLensCheckpoint

/// Hostile `.pth` files (tools/make_torch_fixtures.py, `hostile/`): each is refused with one line
/// naming the file and the problem; nothing is executed (the `os.system` payload would create a
/// file) and nothing crashes.
@Suite("TorchHostile")
struct TorchHostileTests {
    static func reason(_ name: String) -> String {
        let url = Fixtures.url("torch/hostile/\(name)")
        do {
            _ = try TorchCheckpoint(url: url)
            return "loaded"
        } catch let error as TorchCheckpointError {
            #expect(error.file == url.path)
            #expect(!error.description.contains("\n"))
            return error.reason
        } catch {
            return "other error: \(error)"
        }
    }

    @Test(arguments: [
        ("os-system.pth", "refuses pickle global os.system (not a state dict)"),
        ("os-system-legacy.pth", "refuses pickle global os.system (not a state dict)"),
        ("unknown-global.pth", "refuses pickle global torch.nn.modules.linear.Linear (not a state dict)"),
        ("stack-global.pth", "refuses pickle global builtins.eval (not a state dict)"),
        ("offset-past-end.pth", "data.pkl: tensor at byte 156: shape [2, 2], strides [2, 1] and offset 4 reach element 7, past the end of storage '0' (6 elements)"),
        ("storage-short.pth", "storage '0' declares 6 elements of 4 bytes but its entry holds 16 bytes"),
        ("missing-storage.pth", "storage '0' has no entry 'archive/data/0' (truncated archive?)"),
        ("huge-unicode.pth", "data.pkl: value at byte 4 claims 4294967280 bytes but 3 are left"),
        ("huge-long.pth", "data.pkl: integer at byte 2 is 2147483648 bytes long (at most 16 accepted)"),
        ("deep-nesting.pth", "data.pkl: values nest deeper than 64 levels"),
        ("mark-flood.pth", "data.pkl: more than 256 open MARKs (nesting too deep)"),
        ("truncated.pth", "bad zip archive: no end-of-central-directory record (truncated file?)"),
        ("compressed.pth", "bad zip archive: entry 'archive/data.pkl' is compressed (method 8); torch.save stores entries uncompressed"),
        ("zip-bomb.pth", "bad zip archive: entry 'archive/data.pkl' (4294967294 bytes at 46) runs past the end of the data"),
        ("absurd-count.pth", "bad zip archive: 65534 entries cannot fit in a 246-byte central directory"),
        ("not-torch.pth", "not a torch.save file (neither a zip archive nor a legacy pickle)"),
    ])
    func refused(_ name: String, _ expected: String) {
        #expect(Self.reason(name) == expected)
    }

    @Test func nothingRan() {
        _ = Self.reason("os-system.pth")
        _ = Self.reason("os-system-legacy.pth")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/vitlens-pwned"))
    }

    /// `NEWOBJ` builds only an `argparse.Namespace` without arguments (a DINO checkpoint's `args`,
    /// kept as an empty object); any other class, or `Namespace` called through `REDUCE`, is refused.
    @Test func newObjectOnlyForNamespace() throws {
        let legacy = try Data(contentsOf: Fixtures.url("torch/hostile/os-system-legacy.pth"))
        let head = try #require(legacy.range(of: Data([0x80, 0x02, 0x63, 0x6F, 0x73, 0x0A]), options: .backwards)).lowerBound
        let dir = try temporaryFolder("newobj")
        defer { try? FileManager.default.removeItem(at: dir) }
        func reason(_ pickle: [UInt8]) -> String {
            let url = dir.appendingPathComponent("f.pth")
            do {
                try (legacy[..<head] + Data(pickle)).write(to: url)
                _ = try TorchCheckpoint(url: url)
                return "loaded"
            } catch { return "\(error)" }
        }
        let ordered = Array("ccollections\nOrderedDict\n".utf8), namespace = Array("cargparse\nNamespace\n".utf8)
        #expect(reason([0x80, 0x02] + ordered + [0x29, 0x81, 0x2E]).hasSuffix("NEWOBJ at byte 28 creates a collections.OrderedDict, not an argparse.Namespace"))
        #expect(reason([0x80, 0x02] + namespace + [0x4B, 0x01, 0x85, 0x81, 0x2E]).hasSuffix("NEWOBJ at byte 25 passes arguments to argparse.Namespace"))
        #expect(reason([0x80, 0x02] + namespace + [0x29, 0x52, 0x2E]).contains("calls argparse.Namespace, which builds no value here"))
    }

    @Test func theWellFormedViewLoads() throws {
        let file = try TorchCheckpoint(url: Fixtures.url("torch/hostile/good-view.pth"))
        #expect(try file.floats("w") == [2, 3, 4, 5])
    }

    /// Every prefix and a sample of one-byte corruptions of a real file are refused or read, never a crash.
    @Test func truncationsAndCorruptionsNeverCrash() throws {
        let good = try Data(contentsOf: Fixtures.url("torch/tensors/f32.zip.pth"))
        let legacy = try Data(contentsOf: Fixtures.url("torch/tensors/f32.legacy.pth"))
        let dir = try temporaryFolder("torch-corrupt")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("x.pth")
        var outcomes = 0
        for source in [good, legacy] {
            var variants: [Data] = stride(from: 0, to: source.count, by: 7).map { source.prefix($0) }
            for i in stride(from: 0, to: source.count, by: 5) {
                var d = source
                d[i] ^= 0xA5
                variants.append(d)
            }
            for v in variants {
                try v.write(to: url)
                if let c = try? TorchCheckpoint(url: url) {
                    for n in c.names { _ = try? c.floats(n, requireFinite: true) }
                }
                outcomes += 1
            }
        }
        #expect(outcomes > 300)
    }
}
