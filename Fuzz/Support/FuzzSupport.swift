import Foundation

/// Helpers shared by the libFuzzer targets in `Fuzz/`: input splitting and a private scratch folder
/// for parsers that read from files.
public enum FuzzInput {
    /// Separates the parts of a multi-file input (e.g. `config.json` and `preprocessor_config.json`).
    public static let separator = Array("\n--8<--\n".utf8)

    /// The input bytes as `Data` (copied: libFuzzer's buffer is only valid during the call).
    public static func data(_ bytes: UnsafePointer<UInt8>?, _ size: Int) -> Data {
        guard let bytes, size > 0 else { return Data() }
        return Data(bytes: bytes, count: size)
    }

    /// Splits `data` at every ``separator`` into at most `count` parts; missing parts are empty.
    public static func parts(_ data: Data, count: Int) -> [Data] {
        let bytes = [UInt8](data)
        var result: [Data] = []
        var start = 0
        var i = 0
        while i + separator.count <= bytes.count, result.count < count - 1 {
            if bytes[i ..< i + separator.count].elementsEqual(separator) {
                result.append(Data(bytes[start ..< i]))
                i += separator.count
                start = i
            } else {
                i += 1
            }
        }
        result.append(Data(bytes[start...]))
        while result.count < count { result.append(Data()) }
        return result
    }
}

/// A scratch folder private to this process (under `$TMPDIR`), for parsers that take file URLs.
public enum FuzzScratch {
    /// The folder, created on first use.
    public static let folder: URL = {
        let base = ProcessInfo.processInfo.environment["TMPDIR"].map { URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: "/tmp")
        let url = base.appendingPathComponent("vitlens-fuzz-\(getpid())")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(at: FuzzScratch.folder) }
        return url
    }()

    /// Writes `data` to `name` in the scratch folder, or removes that file when `data` is nil.
    @discardableResult
    public static func write(_ name: String, _ data: Data?) -> URL {
        let url = folder.appendingPathComponent(name)
        if let data {
            try? data.write(to: url)
        } else {
            try? FileManager.default.removeItem(at: url)
        }
        return url
    }
}

/// Starts libFuzzer with the process arguments and `testOneInput`, and exits with its status.
///
/// SwiftPM links executables with their own `main` (it renames the module's entry point and points
/// `main` at it), so libFuzzer's `main` is never used; each target's `@main` calls this instead,
/// which runs libFuzzer's driver (`LLVMFuzzerRunDriver`, the documented way to start libFuzzer
/// from a program that has its own `main`).
public enum FuzzDriver {
    public static func run(_ testOneInput: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Never {
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, testOneInput))
    }
}

@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32
