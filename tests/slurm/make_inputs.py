#!/usr/bin/env python3
"""Writes the Slurm test's inputs with the standard library only (CI has python3, not always numpy/PIL).

    python3 make_inputs.py PHOTOS_DIR OUT_DIR [COUNT]

Copies the committed photos (PNG and JPEG) into OUT_DIR and adds COUNT (default 45) PNG variants of
the PNG photos: crops of several sizes and places, some mirrored left-right or upside down, some with
the colour channels rotated. Deterministic (no randomness), so every run sees the same images.
Prints the number of files written.
"""
import os
import shutil
import struct
import sys
import zlib


def fail(message):
    print(f"make_inputs: {message}", file=sys.stderr)
    sys.exit(1)


def read_png(path):
    """8-bit RGB or RGBA, non-interlaced PNG -> (width, height, rows of RGB bytes)."""
    with open(path, "rb") as handle:
        data = handle.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail(f"{path}: not a PNG file")
    pos, header, idat = 8, None, []
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + length
    if header is None:
        fail(f"{path}: no IHDR chunk")
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in (2, 6) or interlace != 0:
        fail(f"{path}: only 8-bit RGB/RGBA non-interlaced PNGs are supported here")
    channels = 3 if colour == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = width * channels
    rows, previous = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        unfilter(kind, line, previous, channels, path)
        rows.append(line if channels == 3 else drop_alpha(line))
        previous = line
    return width, height, rows


def unfilter(kind, line, previous, bpp, path):
    if kind == 0:
        return
    if kind == 1:
        for i in range(bpp, len(line)):
            line[i] = (line[i] + line[i - bpp]) & 255
    elif kind == 2:
        for i in range(len(line)):
            line[i] = (line[i] + previous[i]) & 255
    elif kind == 3:
        for i in range(len(line)):
            left = line[i - bpp] if i >= bpp else 0
            line[i] = (line[i] + ((left + previous[i]) >> 1)) & 255
    elif kind == 4:
        for i in range(len(line)):
            a = line[i - bpp] if i >= bpp else 0
            b = previous[i]
            c = previous[i - bpp] if i >= bpp else 0
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            line[i] = (line[i] + pred) & 255
    else:
        fail(f"{path}: unknown PNG filter {kind}")


def drop_alpha(line):
    out = bytearray()
    for i in range(0, len(line), 4):
        out += line[i:i + 3]
    return out


def write_png(path, width, rows):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    raw = b"".join(b"\x00" + bytes(row) for row in rows)
    header = struct.pack(">IIBBBBB", width, len(rows), 8, 2, 0, 0, 0)
    with open(path, "wb") as handle:
        handle.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                     + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def variant(width, height, rows, index):
    """The index-th variant: a crop (side 96..232, place on a coarse grid), mirrored and recoloured by index."""
    side = min(96 + 8 * (index % 18), width, height)
    x0 = (index * 37) % (width - side + 1)
    y0 = (index * 53) % (height - side + 1)
    out = []
    for y in range(y0, y0 + side):
        row = rows[y][3 * x0:3 * (x0 + side)]
        if index % 2 == 1:  # mirror left-right
            row = b"".join(row[3 * x:3 * x + 3] for x in range(side - 1, -1, -1))
        if index % 5 == 2:  # rotate the colour channels
            row = bytes(row[i + (1, 2, 0)[i % 3] - i % 3] for i in range(len(row)))
        out.append(bytearray(row))
    if index % 3 == 2:  # upside down
        out.reverse()
    return side, out


def main():
    if len(sys.argv) not in (3, 4):
        fail("usage: make_inputs.py PHOTOS_DIR OUT_DIR [COUNT]")
    photos, out = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) == 4 else 45
    os.makedirs(out, exist_ok=True)
    names = sorted(n for n in os.listdir(photos) if n.lower().endswith((".png", ".jpg", ".jpeg")))
    if not names:
        fail(f"{photos}: no PNG or JPEG photos")
    for name in names:
        shutil.copyfile(os.path.join(photos, name), os.path.join(out, name))
    sources = [read_png(os.path.join(photos, n)) for n in names if n.lower().endswith(".png")]
    if not sources:
        fail(f"{photos}: no PNG photo to make variants of")
    for index in range(count):
        width, height, rows = sources[index % len(sources)]
        side, image = variant(width, height, rows, index)
        write_png(os.path.join(out, f"variant-{index:03d}.png"), side, image)
    print(len(names) + count)


if __name__ == "__main__":
    main()
