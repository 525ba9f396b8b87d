// ViTLensRender: attention maps to pictures, in pure Swift on `RGBImage` (no image codecs here;
// callers encode PNGs with ViTLensImage).
//
// The usual path for a patch-grid map [rows, columns]:
//   MapNormalization.apply  -> values in [0, 1] plus the (low, high) range used
//   Upsampling.apply        -> [height, width] (nearest = patch blocks, bilinear = torch align_corners=False)
//   Overlay.apply           -> colour-mapped (matplotlib-identical Colormap) and blended onto the photo
//   ColorBar.appended(to:)  -> a labelled colour bar on the right
// `Overlay.render(_:on:normalization:upsampling:)` does the first three in one call. `Mosaic` lays out
// captioned tiles (one per head plus the mean); `ScatterPlot` draws the ViT paper's mean-attention-distance
// figure and per-layer line charts as SVG text or pixels. Text uses the built-in 5x7 `BitmapFont`.
