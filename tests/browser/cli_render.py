"""The CLI's map-to-colour rules (Sources/ViTLensRender: MapNormalization, Upsampling, Colormap) in
numpy float32, written from the Swift code, so the test checks the page's pixels independently."""
import numpy as np

F = np.float32


def normalize(values, mode="max"):
    """MapNormalization.apply for "max" and "minmax": (v - low) / (high - low) clamped, in float32."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        low, high = F(0), F(0)
    else:
        low, high = (F(0), finite.max()) if mode == "max" else (finite.min(), finite.max())
    if not high > low:
        return np.where(np.isnan(values), np.nan, (values > low).astype(F)).astype(F)
    span = F(high - low)
    with np.errstate(invalid="ignore"):
        return np.clip((values - low) / span, F(0), F(1)).astype(F)


def upsample_nearest(grid, height, width):
    """Upsampling.nearest: output pixel d takes cell min(floor((2d + 1) in / (2 out)), in - 1)."""
    rows, columns = grid.shape
    ys = np.minimum((2 * np.arange(height) + 1) * rows // (2 * height), rows - 1)
    xs = np.minimum((2 * np.arange(width) + 1) * columns // (2 * width), columns - 1)
    return grid[ys][:, xs]


def _taps(n_in, n_out):
    scale = F(F(n_in) / F(n_out))
    s = np.maximum(scale * (np.arange(n_out, dtype=F) + F(0.5)) - F(0.5), F(0)).astype(F)
    i0 = np.minimum(s.astype(np.int64), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    w1 = np.clip(s - i0.astype(F), F(0), F(1)).astype(F)
    return i0, i1, (F(1) - w1).astype(F), w1


def upsample_bilinear(grid, height, width):
    """Upsampling.bilinear: half-pixel centres, edges clamped, every step in float32."""
    y0, y1, v0, v1 = _taps(grid.shape[0], height)
    x0, x1, u0, u1 = _taps(grid.shape[1], width)
    top = u0[None, :] * grid[y0][:, x0] + u1[None, :] * grid[y0][:, x1]
    bottom = u0[None, :] * grid[y1][:, x0] + u1[None, :] * grid[y1][:, x1]
    return (v0[:, None] * top + v1[:, None] * bottom).astype(F)


def colorize(x, table):
    """Colormap.index and lookup: floor(x * 256), x >= 1 -> 255, x < 0 -> 0; RGB uint8 [..., 3]."""
    lut = np.asarray(table, dtype=np.uint8).reshape(256, 3)
    index = np.where(x >= 1, 255, np.where(x < 0, 0, np.floor(np.nan_to_num(x) * F(256)))).astype(np.int64)
    return lut[index]


def expected_map_pixels(grid, height, width, table, normalization="max", upsampling="nearest"):
    """What the CLI would colour for a raw [rows, columns] map at the model-input size."""
    n = normalize(grid.astype(F), normalization)
    big = upsample_nearest(n, height, width) if upsampling == "nearest" else upsample_bilinear(n, height, width)
    return colorize(big, table)
