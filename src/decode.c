#include "decode.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unicode/ucnv.h>
#include <unicode/ucsdet.h>

#include "buffer.h"
#include "error.h"
#include "normalize.h"

#define READ_CHUNK (64 * 1024)
#define PIVOT_SIZE 4096

enum imaddr_status imaddr_decoder_init(struct imaddr_decoder *decoder, FILE *file,
				       const char *path, const char *encoding,
				       struct imaddr_error *err)
{
	memset(decoder, 0, sizeof(*decoder));
	decoder->file = file;
	decoder->path = path;
	decoder->requested = encoding && *encoding ? encoding : NULL;
	if (decoder->requested) {
		UErrorCode status = U_ZERO_ERROR;
		UConverter *probe = ucnv_open(decoder->requested, &status);
		if (U_FAILURE(status))
			return imaddr_error_set(err, IMADDR_ERR_USAGE,
				"--encoding: '%s' is not an encoding imaddr knows (e.g. UTF-8, "
				"UTF-16LE, windows-1252)", decoder->requested);
		ucnv_close(probe);
	}
	return IMADDR_OK;
}

void imaddr_decoder_release(struct imaddr_decoder *decoder)
{
	if (decoder->source)
		ucnv_close(decoder->source);
	if (decoder->utf8)
		ucnv_close(decoder->utf8);
	free(decoder->in);
	free(decoder->pivot);
	free(decoder->ascii_tail);
	decoder->ascii_tail = NULL;
	decoder->source = decoder->utf8 = NULL;
	decoder->in = NULL;
	decoder->pivot = NULL;
}

static enum imaddr_status read_error(struct imaddr_decoder *decoder, struct imaddr_error *err)
{
	return imaddr_error_set(err, IMADDR_ERR_IO, "%s: read error: %s", decoder->path,
				strerror(errno ? errno : EIO));
}

/* Appends to `in` until it holds `want` bytes or the file ends. */
static enum imaddr_status fill(struct imaddr_decoder *decoder, size_t want,
			       struct imaddr_error *err)
{
	if (decoder->in_pos) {
		decoder->consumed += decoder->in_pos;
		memmove(decoder->in, decoder->in + decoder->in_pos,
			decoder->in_len - decoder->in_pos);
		decoder->in_len -= decoder->in_pos;
		decoder->in_pos = 0;
	}
	while (!decoder->eof && decoder->in_len < want) {
		errno = 0;
		size_t got = fread(decoder->in + decoder->in_len, 1, want - decoder->in_len,
				   decoder->file);
		decoder->in_len += got;
		if (ferror(decoder->file))
			return read_error(decoder, err);
		if (!got)
			decoder->eof = true;
	}
	return IMADDR_OK;
}

/*
 * ICU names Windows-1252 text without bytes 0x80-0x9F "ISO-8859-1"; both
 * decode such text alike, and Windows wrote it: the WHATWG Encoding
 * Standard reads the one label as the other for the same reason.
 */
static const char *windows_name(const char *name)
{
	return !strcasecmp(name, "ISO-8859-1") ? "windows-1252" : name;
}

/*
 * Whether the bytes at hand are UTF-8, the last character perhaps cut short
 * by their end, which the next bytes complete: a lead byte and fewer
 * continuation bytes than it needs. *complete is the length before it.
 */
static bool utf8_prefix_valid(const struct imaddr_decoder *decoder, size_t *complete)
{
	size_t bad, before;
	const char *text = decoder->in + decoder->in_pos;
	size_t len = decoder->in_len - decoder->in_pos;
	*complete = len;
	if (imaddr_normalize_utf8_valid(text, len, &bad))
		return true;
	if (decoder->eof || len - bad >= 4 || !imaddr_normalize_utf8_valid(text, bad, &before))
		return false;
	unsigned char lead = (unsigned char)text[bad];
	size_t need = lead >= 0xC2 && lead <= 0xDF ? 2 : lead >= 0xE0 && lead <= 0xEF ? 3
		    : lead >= 0xF0 && lead <= 0xF4 ? 4 : 0;
	if (len - bad >= need)
		return false;
	for (size_t i = bad + 1; i < len; i++) {
		if (((unsigned char)text[i] & 0xC0) != 0x80)
			return false;
	}
	*complete = bad;
	return true;
}

/*
 * UTF-8 with a few damaged values, not another encoding: more well-formed
 * multi-byte sequences than bad bytes, which text in a legacy encoding
 * almost never has. Read as UTF-8, its bad bytes become findings of the
 * users that have them (the rules report invalid UTF-8 with the byte).
 */
static bool mostly_utf8(const struct imaddr_decoder *decoder)
{
	const char *text = decoder->in + decoder->in_pos;
	size_t len = decoder->in_len - decoder->in_pos, bad;
	uint64_t sequences = 0, bad_bytes = 0;
	while (len) {
		bool valid = imaddr_normalize_utf8_valid(text, len, &bad);
		size_t good = valid ? len : bad;
		for (size_t i = 0; i < good; i++)
			sequences += ((unsigned char)text[i] & 0xC0) == 0xC0;
		if (valid)
			break;
		bad_bytes++;
		text += bad + 1;
		len -= bad + 1;
	}
	return sequences > bad_bytes;
}

/* "path" or, past the first bytes, "path:line" for the messages of a decision. */
static const char *where(const struct imaddr_decoder *decoder, uint64_t line, char *buffer,
			 size_t size)
{
	if (!line)
		return decoder->path;
	snprintf(buffer, size, "%s:%llu", decoder->path, (unsigned long long)line);
	return buffer;
}

/*
 * ICU's detector on the bytes at hand, after the ASCII text the decoder kept
 * before them when it decides again (the detector's guess of the language
 * needs the words around the accents): confident, or the read fails with
 * the likely encodings. `line` (0 for the file's start) is where the bytes
 * at hand start.
 */
static enum imaddr_status detect(struct imaddr_decoder *decoder, uint64_t line,
				 struct imaddr_error *err)
{
	char place[1024];
	struct imaddr_buf sample;
	imaddr_buf_init(&sample, 0);
	if (line && decoder->ascii_tail_len)
		imaddr_buf_append(&sample, decoder->ascii_tail, decoder->ascii_tail_len);
	imaddr_buf_append(&sample, decoder->in + decoder->in_pos,
			  decoder->in_len - decoder->in_pos);
	UErrorCode status = U_ZERO_ERROR;
	UCharsetDetector *detector = ucsdet_open(&status);
	int32_t count = 0;
	const UCharsetMatch **matches = NULL;
	if (U_SUCCESS(status)) {
		ucsdet_setText(detector, sample.data, (int32_t)sample.len, &status);
		matches = ucsdet_detectAll(detector, &count, &status);
	}
	if (U_FAILURE(status) || !count) {
		if (detector)
			ucsdet_close(detector);
		imaddr_buf_release(&sample);
		return imaddr_error_set(err, IMADDR_ERR_INPUT,
			"%s: not UTF-8, and its encoding cannot be told: give it with --encoding "
			"(e.g. --encoding windows-1252 for Western European names, windows-1250 "
			"for Central European, windows-1251 for Cyrillic)",
			where(decoder, line, place, sizeof(place)));
	}
	const char *best = windows_name(ucsdet_getName(matches[0], &status));
	int32_t confidence = ucsdet_getConfidence(matches[0], &status);
	int32_t runner_up = 0;
	for (int32_t i = 1; i < count; i++) {
		if (strcasecmp(windows_name(ucsdet_getName(matches[i], &status)), best)) {
			runner_up = ucsdet_getConfidence(matches[i], &status);
			break;
		}
	}
	enum imaddr_status result = IMADDR_OK;
	if (confidence < IMADDR_DECODE_MIN_CONFIDENCE ||
	    confidence - runner_up < IMADDR_DECODE_MIN_LEAD) {
		char likely[200];
		size_t used = 0;
		likely[0] = '\0';
		for (int32_t i = 0; i < count && i < 3; i++)
			used += (size_t)snprintf(likely + used, sizeof(likely) - used, "%s%s (%d%%)",
				i ? ", " : "", windows_name(ucsdet_getName(matches[i], &status)),
				(int)ucsdet_getConfidence(matches[i], &status));
		/*
		 * The detector's best guess is no advice: between code pages of
		 * one script it is often wrong, and a wrong one decodes without
		 * an error. The user knows the directory's languages.
		 */
		result = imaddr_error_set(err, IMADDR_ERR_INPUT,
			"%s: not UTF-8, and its encoding is not clear: likely %s; give it "
			"with --encoding (windows-1252 for Western European names, windows-1250 "
			"for Central European, windows-1251 for Cyrillic) and check a name with "
			"accents in the output",
			where(decoder, line, place, sizeof(place)), likely);
	} else if (line) {
		snprintf(decoder->encoding, sizeof(decoder->encoding), "%s", best);
		snprintf(decoder->how_text, sizeof(decoder->how_text),
			 "detected at line %llu, ASCII before", (unsigned long long)line);
		decoder->how = decoder->how_text;
	} else {
		snprintf(decoder->encoding, sizeof(decoder->encoding), "%s", best);
		decoder->how = "detected";
	}
	ucsdet_close(detector);
	/* ICU's matches point into the detector: `best` is used up by now. */
	imaddr_buf_release(&sample);
	return result;
}

static enum imaddr_status open_converters(struct imaddr_decoder *decoder,
					  struct imaddr_error *err)
{
	UErrorCode status = U_ZERO_ERROR;
	decoder->source = ucnv_open(decoder->encoding, &status);
	if (U_SUCCESS(status))
		ucnv_setToUCallBack(decoder->source, UCNV_TO_U_CALLBACK_STOP, NULL, NULL, NULL,
				    &status);
	if (U_SUCCESS(status))
		decoder->utf8 = ucnv_open("UTF-8", &status);
	if (U_FAILURE(status))
		return imaddr_error_set(err, IMADDR_ERR_UNICODE,
					"%s: cannot open ICU's converter for %s: %s", decoder->path,
					decoder->encoding, u_errorName(status));
	/*
	 * ICU maps the bytes Windows code pages leave undefined (0x81, 0x8D,
	 * 0x8F, 0x90 and 0x9D in 1252) to the C1 controls of the same number, as
	 * the WHATWG standard does. No directory holds those controls: such a
	 * byte means another code page, most often the DOS one of csvde's or a
	 * script's console (0x81 is 'ü' in 850), and is refused like any byte
	 * the encoding does not define.
	 */
	decoder->c1_undefined = !strncasecmp(decoder->encoding, "windows-125", 11);
	decoder->pivot = imaddr_xmalloc(PIVOT_SIZE * sizeof(UChar));
	decoder->pivot_source = decoder->pivot_target = decoder->pivot;
	return IMADDR_OK;
}

/*
 * UTF-16 without a byte order mark (PowerShell's and csvde's when a script
 * dropped it): text from a directory is mostly ASCII, so every other byte is
 * NUL, which no 8-bit text holds.
 */
static const char *utf16_by_nul_bytes(const struct imaddr_decoder *decoder)
{
	const unsigned char *text = (const unsigned char *)decoder->in + decoder->in_pos;
	size_t len = decoder->in_len - decoder->in_pos, pairs = 0, even = 0, odd = 0;
	if (len > 4096)
		len = 4096;
	for (size_t i = 0; i + 1 < len; i += 2, pairs++) {
		even += text[i] == 0;
		odd += text[i + 1] == 0;
	}
	if (pairs < 2)
		return NULL;
	if (odd * 10 >= pairs * 6 && even * 10 < pairs)
		return "UTF-16LE";
	if (even * 10 >= pairs * 6 && odd * 10 < pairs)
		return "UTF-16BE";
	return NULL;
}

/* The first byte past ASCII in `text`, or NULL: eight bytes at a time. */
static const char *past_ascii(const char *text, size_t len)
{
	size_t i = 0;
	for (; i + sizeof(uint64_t) <= len; i += sizeof(uint64_t)) {
		uint64_t word;
		memcpy(&word, text + i, sizeof(word));
		if (word & 0x8080808080808080ULL)
			break;
	}
	for (; i < len; i++) {
		if ((unsigned char)text[i] >= 0x80)
			return text + i;
	}
	return NULL;
}

/* The ASCII text kept before the first byte past it, for the detector. */
#define ASCII_TAIL (16 * 1024)

/*
 * The bytes at hand decide, at the file's start (`line` 0) or at the first
 * byte past ASCII of a file whose first bytes were ASCII only: UTF-8 as it
 * is or with damaged values, else ICU's detector.
 */
static enum imaddr_status decide_by_bytes(struct imaddr_decoder *decoder, uint64_t line,
					  struct imaddr_error *err)
{
	size_t complete;
	enum imaddr_status status = IMADDR_OK;
	if (utf8_prefix_valid(decoder, &complete)) {
		snprintf(decoder->encoding, sizeof(decoder->encoding), "UTF-8");
		/* Every code page writes ASCII alike: the first byte past it decides. */
		if (!line && !decoder->eof &&
		    !past_ascii(decoder->in + decoder->in_pos, complete)) {
			decoder->ascii_watch = true;
			decoder->ascii_tail = imaddr_xmalloc(ASCII_TAIL);
		}
		if (!line)
			decoder->how = "no byte order mark, valid UTF-8";
	} else if (mostly_utf8(decoder)) {
		snprintf(decoder->encoding, sizeof(decoder->encoding), "UTF-8");
		decoder->how = "no byte order mark, UTF-8 with invalid bytes";
	} else {
		status = detect(decoder, line, err);
	}
	if (status != IMADDR_OK)
		return status;
	decoder->passthrough = !strcasecmp(decoder->encoding, "UTF-8");
	return decoder->passthrough ? IMADDR_OK : open_converters(decoder, err);
}

static enum imaddr_status decide(struct imaddr_decoder *decoder, struct imaddr_error *err)
{
	decoder->in = imaddr_xmalloc(IMADDR_DECODE_SNIFF);
	enum imaddr_status status = fill(decoder, IMADDR_DECODE_SNIFF, err);
	if (status != IMADDR_OK)
		return status;
	decoder->decided = true;
	const char *utf16;
	UErrorCode icu = U_ZERO_ERROR;
	int32_t signature = 0;
	const char *bom = ucnv_detectUnicodeSignature(decoder->in, (int32_t)decoder->in_len,
						      &signature, &icu);
	if (U_SUCCESS(icu) && bom) {
		snprintf(decoder->encoding, sizeof(decoder->encoding), "%s", bom);
		decoder->how = "byte order mark";
		decoder->in_pos = (size_t)signature;
	} else if (decoder->requested) {
		snprintf(decoder->encoding, sizeof(decoder->encoding), "%s", decoder->requested);
		decoder->how = "--encoding";
	} else if ((utf16 = utf16_by_nul_bytes(decoder))) {
		snprintf(decoder->encoding, sizeof(decoder->encoding), "%s", utf16);
		decoder->how = "no byte order mark, NUL bytes of UTF-16";
	} else {
		return decide_by_bytes(decoder, 0, err);
	}
	decoder->passthrough = !strcasecmp(decoder->encoding, "UTF-8");
	return decoder->passthrough ? IMADDR_OK : open_converters(decoder, err);
}

static uint64_t count_newlines(const char *text, size_t len)
{
	uint64_t count = 0;
	for (const char *end = text + len; (text = memchr(text, '\n', (size_t)(end - text)));
	     text++)
		count++;
	return count;
}

static uint64_t count_pivot_newlines(const struct imaddr_decoder *decoder)
{
	uint64_t count = 0;
	for (const uint16_t *unit = decoder->pivot_source; unit < decoder->pivot_target; unit++)
		count += *unit == '\n';
	return count;
}

static enum imaddr_status invalid_bytes(struct imaddr_decoder *decoder, const char *stop,
					uint64_t line, UErrorCode icu, struct imaddr_error *err)
{
	char bytes[8];
	int8_t length = sizeof(bytes);
	UErrorCode status = U_ZERO_ERROR;
	ucnv_getInvalidChars(decoder->source, bytes, &length, &status);
	if (U_FAILURE(status))
		length = 0;
	uint64_t offset = decoder->consumed + (uint64_t)(stop - decoder->in) - (uint64_t)length;
	const char *advice = !strcmp(decoder->how, "--encoding")
		? "is --encoding right?" : "give the file's encoding with --encoding";
	/* A byte order mark leaves no doubt of the encoding: the file is cut short. */
	if (icu == U_TRUNCATED_CHAR_FOUND)
		return imaddr_error_set(err, IMADDR_ERR_INPUT,
			"%s:%llu: the file ends inside a %s character (%s): %s", decoder->path,
			(unsigned long long)line, decoder->encoding, decoder->how,
			!strcmp(decoder->how, "byte order mark")
				? "it was cut short: export it again"
				: !strcmp(decoder->how, "--encoding")
				? "cut short? Else is --encoding right?"
				: "cut short? Else give the file's encoding with --encoding");
	return imaddr_error_set(err, IMADDR_ERR_INPUT,
		"%s:%llu: byte %llu (0x%02X) is not valid %s (%s): %s", decoder->path,
		(unsigned long long)line, (unsigned long long)offset + 1,
		length ? (unsigned char)bytes[0] : 0, decoder->encoding, decoder->how, advice);
}

/* A C1 control in UTF-8 (0xC2 0x80-0x9F) in `text`, or NULL; may start before it. */
static const char *find_c1(struct imaddr_decoder *decoder, const char *text, size_t len)
{
	const unsigned char *p = (const unsigned char *)text, *end = p + len;
	if (decoder->after_c2 && len && p[0] >= 0x80 && p[0] <= 0x9F)
		return text;
	for (; (p = memchr(p, 0xC2, (size_t)(end - p))); p++)
		if (p + 1 < end && p[1] >= 0x80 && p[1] <= 0x9F)
			return (const char *)p;
	decoder->after_c2 = len && end[-1] == 0xC2;
	return NULL;
}

static enum imaddr_status undefined_byte(struct imaddr_decoder *decoder, const char *out,
					 const char *c1, struct imaddr_error *err)
{
	unsigned char byte = c1 == out && decoder->after_c2 ? (unsigned char)c1[0]
							    : (unsigned char)c1[1];
	uint64_t line = decoder->lines + count_newlines(out, (size_t)(c1 - out)) + 1;
	/* csvde and scripts run in a console write its DOS code page, where 0x81 is 'ü'. */
	const char *advice = !strcmp(decoder->how, "--encoding")
		? "is --encoding right? (a DOS code page such as 850 or 437?)"
		: "give the file's encoding with --encoding (written by a console tool? its "
		  "DOS code page: --encoding ibm-850, or ibm-437)";
	return imaddr_error_set(err, IMADDR_ERR_INPUT,
		"%s:%llu: byte 0x%02X is not a character in %s (%s): %s", decoder->path,
		(unsigned long long)line, byte, decoder->encoding, decoder->how, advice);
}

static enum imaddr_status convert(struct imaddr_decoder *decoder, char *out, size_t size,
				  size_t *got, struct imaddr_error *err)
{
	char *target = out;
	while (target == out) {
		if (decoder->in_pos == decoder->in_len && !decoder->eof) {
			enum imaddr_status status = fill(decoder, READ_CHUNK, err);
			if (status != IMADDR_OK)
				return status;
		}
		const char *source = decoder->in + decoder->in_pos;
		const char *limit = decoder->in + decoder->in_len;
		UErrorCode icu = U_ZERO_ERROR;
		bool flush = decoder->eof;
		ucnv_convertEx(decoder->utf8, decoder->source, &target, out + size, &source, limit,
			       decoder->pivot, &decoder->pivot_source, &decoder->pivot_target,
			       decoder->pivot + PIVOT_SIZE, false, flush, &icu);
		decoder->in_pos = (size_t)(source - decoder->in);
		if (icu == U_BUFFER_OVERFLOW_ERROR)
			break;
		if (U_FAILURE(icu)) {
			/*
			 * What came before the bad byte may still be in the pivot:
			 * ICU stops converting to UTF-16 at the error without passing
			 * on what it converted.
			 */
			uint64_t line = decoder->lines + count_newlines(out, (size_t)(target - out)) +
					count_pivot_newlines(decoder) + 1;
			return invalid_bytes(decoder, source, line, icu, err);
		}
		if (flush && decoder->in_pos == decoder->in_len)
			break;
	}
	*got = (size_t)(target - out);
	const char *c1 = decoder->c1_undefined ? find_c1(decoder, out, *got) : NULL;
	if (c1)
		return undefined_byte(decoder, out, c1, err);
	decoder->lines += count_newlines(out, *got);
	return IMADDR_OK;
}

/*
 * The first byte past ASCII of a file read as UTF-8 on ASCII alone, at the
 * start of `in`, `line` its line: the bytes from it (as many as the first
 * decision looked at) decide again. Those before, ASCII, read alike in
 * whatever is decided.
 */
static enum imaddr_status decide_again(struct imaddr_decoder *decoder, uint64_t line,
				       struct imaddr_error *err)
{
	decoder->ascii_watch = false;
	enum imaddr_status status = fill(decoder, IMADDR_DECODE_SNIFF, err);
	if (status == IMADDR_OK)
		status = decide_by_bytes(decoder, line, err);
	free(decoder->ascii_tail);
	decoder->ascii_tail = NULL;
	decoder->ascii_tail_len = 0;
	return status;
}

/* Keeps the last ASCII_TAIL bytes of the ASCII text handed over. */
static void keep_ascii_tail(struct imaddr_decoder *decoder, const char *text, size_t len)
{
	if (len >= ASCII_TAIL) {
		memcpy(decoder->ascii_tail, text + len - ASCII_TAIL, ASCII_TAIL);
		decoder->ascii_tail_len = ASCII_TAIL;
		return;
	}
	size_t keep = decoder->ascii_tail_len < ASCII_TAIL - len ? decoder->ascii_tail_len
								  : ASCII_TAIL - len;
	memmove(decoder->ascii_tail, decoder->ascii_tail + decoder->ascii_tail_len - keep, keep);
	memcpy(decoder->ascii_tail + keep, text, len);
	decoder->ascii_tail_len = keep + len;
}

/* Reads through `in` while the first byte past ASCII is to come. */
static enum imaddr_status read_watching(struct imaddr_decoder *decoder, char *out, size_t size,
					size_t *got, struct imaddr_error *err)
{
	if (decoder->in_pos == decoder->in_len) {
		enum imaddr_status status = fill(decoder, READ_CHUNK, err);
		if (status != IMADDR_OK)
			return status;
	}
	const char *text = decoder->in + decoder->in_pos;
	size_t n = decoder->in_len - decoder->in_pos;
	if (n > size)
		n = size;
	const char *past = past_ascii(text, n);
	size_t ascii = past ? (size_t)(past - text) : n;
	memcpy(out, text, ascii);
	keep_ascii_tail(decoder, out, ascii);
	decoder->in_pos += ascii;
	decoder->lines += count_newlines(out, ascii);
	*got = ascii;
	if (!past || ascii)
		return IMADDR_OK;
	enum imaddr_status status = decide_again(decoder, decoder->lines + 1, err);
	if (status != IMADDR_OK)
		return status;
	return imaddr_decoder_read(decoder, out, size, got, err);
}

enum imaddr_status imaddr_decoder_read(struct imaddr_decoder *decoder, char *out, size_t size,
				       size_t *got, struct imaddr_error *err)
{
	*got = 0;
	if (!decoder->decided) {
		enum imaddr_status status = decide(decoder, err);
		if (status != IMADDR_OK)
			return status;
	}
	if (!decoder->passthrough)
		return convert(decoder, out, size, got, err);
	if (decoder->ascii_watch)
		return read_watching(decoder, out, size, got, err);
	if (decoder->in_pos < decoder->in_len) {
		size_t n = decoder->in_len - decoder->in_pos;
		if (n > size)
			n = size;
		memcpy(out, decoder->in + decoder->in_pos, n);
		decoder->in_pos += n;
		*got = n;
		return IMADDR_OK;
	}
	errno = 0;
	*got = fread(out, 1, size, decoder->file);
	if (ferror(decoder->file))
		return read_error(decoder, err);
	return IMADDR_OK;
}
