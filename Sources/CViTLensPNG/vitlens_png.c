// PNG decoding through libpng's low-level API. libpng reports errors by longjmp, which must never
// cross Swift frames, so every libpng call that can fail is made here, between setjmp and return.
#include "vitlens_png.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const unsigned char *data;
    size_t size;
    size_t pos;
    int truncated;
    char *message;
    size_t message_size;
} reader;

static void copy_message(reader *r, const char *text) {
    if (r->message_size == 0) return;
    strncpy(r->message, text ? text : "unknown libpng error", r->message_size - 1);
    r->message[r->message_size - 1] = 0;
}

static void on_error(png_structp png, png_const_charp text) {
    reader *r = (reader *)png_get_error_ptr(png);
    copy_message(r, text);
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp text) {
    (void)png;
    (void)text;
}

static void on_read(png_structp png, png_bytep out, size_t count) {
    reader *r = (reader *)png_get_io_ptr(png);
    if (r->size - r->pos < count) {
        r->truncated = 1;
        png_error(png, "unexpected end of file");
    }
    memcpy(out, r->data + r->pos, count);
    r->pos += count;
}

vl_png_status vl_png_decode(const unsigned char *data, size_t size, size_t max_pixels, vl_png_image *out) {
    memset(out, 0, sizeof *out);
    // On the heap: the callbacks change it between setjmp and longjmp, and a local would then be
    // indeterminate after the jump.
    reader *r = (reader *)calloc(1, sizeof(reader));
    if (!r) return VL_PNG_NO_MEMORY;
    r->data = data;
    r->size = size;
    r->message = out->message;
    r->message_size = sizeof out->message;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, r, on_error, on_warning);
    if (!png) {
        free(r);
        return VL_PNG_NO_MEMORY;
    }
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        free(r);
        return VL_PNG_NO_MEMORY;
    }
    // Both are written after setjmp and read after a longjmp, hence volatile.
    unsigned char *volatile pixels = NULL;
    png_bytep *volatile rows = NULL;
    volatile vl_png_status status = VL_PNG_CORRUPT;

    if (setjmp(png_jmpbuf(png))) {
        free(rows);
        free(pixels);
        png_destroy_read_struct(&png, &info, NULL);
        int truncated = r->truncated;
        free(r);
        if (truncated) return VL_PNG_TRUNCATED;
        // IDAT chunks that end before the last row: the image data itself is cut short.
        if (strstr(out->message, "Not enough image data") != NULL) return VL_PNG_TRUNCATED;
        return status;
    }

    png_set_read_fn(png, r, on_read);
    // Pillow rejects any chunk whose CRC is wrong; libpng would only warn for ancillary chunks.
    png_set_crc_action(png, PNG_CRC_DEFAULT, PNG_CRC_ERROR_QUIT);
    // Benign errors (e.g. palette index past the palette) become warnings; Pillow decodes such files.
    png_set_benign_errors(png, 1);
    png_read_info(png, info);

    png_uint_32 width = 0, height = 0;
    int depth = 0, color = 0, interlace = 0;
    png_get_IHDR(png, info, &width, &height, &depth, &color, &interlace, NULL, NULL);
    if ((size_t)width * (size_t)height > max_pixels) {
        snprintf(out->message, sizeof out->message, "%u x %u pixels exceeds the limit of %zu", width, height, max_pixels);
        status = VL_PNG_TOO_LARGE;
        png_longjmp(png, 1);
    }
    if (depth < 8) png_set_packing(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    size_t row_bytes = png_get_rowbytes(png, info);
    out->width = (int)width;
    out->height = (int)height;
    out->bit_depth = depth;
    out->color_type = color;
    out->channels = png_get_channels(png, info);
    out->row_bytes = row_bytes;
    if (color == PNG_COLOR_TYPE_PALETTE) {
        png_colorp palette = NULL;
        int count = 0;
        if (png_get_PLTE(png, info, &palette, &count) == PNG_INFO_PLTE && palette) {
            if (count > 256) count = 256;
            for (int i = 0; i < count; i++) {
                out->palette[3 * i + 0] = palette[i].red;
                out->palette[3 * i + 1] = palette[i].green;
                out->palette[3 * i + 2] = palette[i].blue;
            }
            out->palette_count = count;
        }
    }

    pixels = (unsigned char *)malloc(row_bytes * height > 0 ? row_bytes * height : 1);
    rows = (png_bytep *)malloc(sizeof(png_bytep) * (height > 0 ? height : 1));
    if (!pixels || !rows) {
        snprintf(out->message, sizeof out->message, "out of memory for %u x %u pixels", width, height);
        status = VL_PNG_NO_MEMORY;
        png_longjmp(png, 1);
    }
    for (png_uint_32 y = 0; y < height; y++) rows[y] = pixels + (size_t)y * row_bytes;
    png_read_image(png, rows);
    // png_read_end is skipped on purpose: chunks after the image data do not change the pixels.

    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    free(r);
    out->pixels = pixels;
    out->message[0] = 0;
    return VL_PNG_OK;
}

void vl_png_free(vl_png_image *image) {
    if (image && image->pixels) {
        free(image->pixels);
        image->pixels = NULL;
    }
}
