import ViTLensCore

extension ImageProcessorConfig {
    /// The config as a `preprocessor_config.json` that transformers reads back to the same
    /// processing: type, resize, resample, rescale, normalise; centre crop and RGB conversion only
    /// when set. ``cropPlacement`` has no field: see ``huggingFaceCaveat``.
    package var jsonValue: JSONValue {
        let sizeValue: JSONValue
        switch size {
        case .exact(let height, let width): sizeValue = .object(["height": .integer(height), "width": .integer(width)])
        case .shortestEdge(let edge): sizeValue = .object(["shortest_edge": .integer(edge)])
        case .shortestEdgeCapped(let shortest, let longest):
            sizeValue = .object(["shortest_edge": .integer(shortest), "longest_edge": .integer(longest)])
        }
        var members: [(key: String, value: JSONValue)] = [
            ("image_processor_type", .string(processorType.rawValue)),
            ("do_resize", .bool(doResize)), ("size", sizeValue), ("resample", .integer(resample.rawValue)),
            ("do_rescale", .bool(doRescale)), ("rescale_factor", .float(rescaleFactor)),
            ("do_normalize", .bool(doNormalize)),
            ("image_mean", .floats(imageMean)), ("image_std", .floats(imageStd)),
        ]
        if doCenterCrop {
            members += [("do_center_crop", .bool(true)),
                        ("crop_size", .object(["height": .integer(cropHeight), "width": .integer(cropWidth)]))]
        }
        if doConvertRGB { members += [("do_convert_rgb", .bool(true))] }
        return .object(members)
    }

    /// Where ``jsonValue`` does not reproduce this config exactly in transformers, one sentence; `nil`
    /// when it does. transformers has no field for torchvision's crop placement (timm's eval
    /// transform): its centre crop starts one pixel earlier when the surplus is 3, 7, 11, ... pixels.
    public var huggingFaceCaveat: String? {
        guard doCenterCrop, cropPlacement == .torchvision else { return nil }
        return "transformers' centre crop reads from (H - h) // 2, timm's (torchvision's) from round((H - h) / 2): "
            + "for a resized side 3, 7, 11, ... pixels longer than the crop the window starts one pixel earlier"
    }
}
