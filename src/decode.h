/*
 * The text of an input file as UTF-8, whatever the tool that wrote it used.
 * Windows exports come as UTF-8 with or without a byte order mark, UTF-16LE
 * with one (PowerShell's -Encoding Unicode, csvde -u, ldifde -u), or
 * Windows-1252 (csvde without -u, Excel's CSV in many locales). The decoder
 * decides on the first bytes: a byte order mark decides; else a name the
 * caller gives (--encoding); else NUL bytes in every other place mean
 * UTF-16 without a byte order mark; else bytes that are valid UTF-8 are read
 * as they are; else ICU's charset detector must be confident, or the read
 * fails with the likely encodings named. When the first bytes were ASCII
 * only (a csvde export whose first accented name comes late), the first
 * byte past ASCII decides again, the same way, from there on. Nothing is
 * ever decoded silently wrong: a byte the encoding does not define stops
 * the read with its line.
 * Every ICU converter call of imaddr is here (normalize.c and spoof.c have
 * the rest).
 */
#ifndef IMADDR_DECODE_H
#define IMADDR_DECODE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "imaddr.h"

/* Bytes looked at to decide: the detector needs text to be confident. */
#define IMADDR_DECODE_SNIFF (256 * 1024)
/* ICU's detector confidence (0-100) below which the read is refused, and the
 * lead the best guess needs over the next one of another decoding. */
#define IMADDR_DECODE_MIN_CONFIDENCE 25
#define IMADDR_DECODE_MIN_LEAD 5

struct imaddr_decoder {
	FILE *file;                  /* borrowed */
	const char *path;            /* borrowed, for messages */
	const char *requested;       /* the caller's encoding name, or NULL */
	char encoding[40];           /* the encoding in use, once decided */
	const char *how;             /* "byte order mark", "detected"... */
	bool decided;
	bool passthrough;            /* UTF-8: bytes are handed over as they are */
	void *source;                /* UConverter * of the input's encoding */
	void *utf8;                  /* UConverter * to UTF-8 */
	char *in;                    /* bytes read, not yet converted */
	size_t in_pos, in_len;
	bool eof;
	uint16_t *pivot;             /* UChar pivot between the converters */
	uint16_t *pivot_source, *pivot_target;
	uint64_t consumed;           /* input bytes converted before `in` */
	uint64_t lines;              /* '\n's handed over so far */
	bool c1_undefined;           /* a Windows code page: U+0080-U+009F come from no character */
	bool after_c2;               /* the last byte handed over was 0xC2 */
	/*
	 * UTF-8 decided on bytes that were all ASCII, which every Windows code
	 * page writes alike: the first byte past ASCII decides again.
	 */
	bool ascii_watch;
	char *ascii_tail;            /* while watching: the last ASCII handed over */
	size_t ascii_tail_len;
	char how_text[64];           /* `how` when it needs a number */
};

/**
 * Prepares a decoder of `file`; nothing is read yet. `encoding` (borrowed;
 * NULL to decide from the bytes) must be an encoding ICU knows: else
 * IMADDR_ERR_USAGE, naming it.
 */
enum imaddr_status imaddr_decoder_init(struct imaddr_decoder *decoder, FILE *file,
				       const char *path, const char *encoding,
				       struct imaddr_error *err);

/**
 * Reads up to `size` bytes of UTF-8 into `out` (a character may be split
 * between two reads, as in any byte stream); *got is 0 at the end. Fails
 * with IMADDR_ERR_INPUT when the encoding cannot be decided or a byte is not
 * valid in it, IMADDR_ERR_IO when reading fails.
 */
enum imaddr_status imaddr_decoder_read(struct imaddr_decoder *decoder, char *out, size_t size,
				       size_t *got, struct imaddr_error *err);

/** Frees what the decoder holds (not the file). */
void imaddr_decoder_release(struct imaddr_decoder *decoder);

#endif /* IMADDR_DECODE_H */
