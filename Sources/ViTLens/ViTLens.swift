// The umbrella module: `import ViTLens` brings in every part of the toolkit.
@_exported import ViTLensCore
@_exported import ViTLensCheckpoint
@_exported import ViTLensImage
@_exported import ViTLensText
@_exported import ViTLensModels
@_exported import ViTLensONNX
@_exported import ViTLensAnalysis
@_exported import ViTLensRender
