// ViTLensImage: see Package.swift for what this module holds.
import ViTLensCore
