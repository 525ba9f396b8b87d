// CViTLensPNG: PNG decoding through libpng's low-level API, with libpng's setjmp error handling kept
// inside C. ViTLensImage turns the raw samples into RGB the way Pillow does.
#ifndef VITLENS_PNG_H
#define VITLENS_PNG_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Outcome of vl_png_decode.
typedef enum {
    VL_PNG_OK = 0,
    VL_PNG_TRUNCATED = 1,   // the data ended before the image data did
    VL_PNG_CORRUPT = 2,     // libpng rejected the data (bad CRC, bad zlib stream, bad header, ...)
    VL_PNG_TOO_LARGE = 3,   // more pixels than max_pixels
    VL_PNG_NO_MEMORY = 4
} vl_png_status;

/// Raw samples of a decoded PNG: no gamma, no alpha handling, no expansion.
///
/// Samples below 8 bits are unpacked to one byte each, unscaled (gray 2-bit gives 0...3, palette
/// gives indices). 16-bit samples stay big-endian, two bytes each. Interlaced images are
/// de-interlaced. `pixels` holds `height * row_bytes` bytes.
typedef struct {
    int width;
    int height;
    int bit_depth;        // 1, 2, 4, 8 or 16 as stored in IHDR
    int color_type;       // 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA
    int channels;         // samples per pixel: 1, 3, 1, 2, 4
    size_t row_bytes;
    unsigned char *pixels; // malloc'd; release with vl_png_free
    int palette_count;    // entries in palette (PLTE), 0 if none
    unsigned char palette[256 * 3];
    char message[200];    // libpng's message when status != VL_PNG_OK
} vl_png_image;

/// Decodes a complete PNG held in memory; on success the caller owns `out->pixels`.
vl_png_status vl_png_decode(const unsigned char *data, size_t size, size_t max_pixels, vl_png_image *out);

/// Releases the pixel buffer of a decoded image (safe on a zeroed or failed result).
void vl_png_free(vl_png_image *image);

#ifdef __cplusplus
}
#endif

#endif
