/*
 * bench_codec.h — encoding of values in 16-bit Modbus registers
 * (bench-protocol.md §2). Own code with explicit shifts: Debian 12's
 * libmodbus modbus_set_float_* swap the bytes inside each register
 * (tech-notes §1.8), so they are never called in meterlab.
 *
 * All functions are pure and thread-safe. Register arrays are owned by the
 * caller; the functions read or write exactly the documented count.
 */
#ifndef ML_BENCH_CODEC_H
#define ML_BENCH_CODEC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* u32/i32: two registers, high word first. */
uint32_t bcodec_get_u32(const uint16_t *r);
int32_t bcodec_get_i32(const uint16_t *r);
void bcodec_put_u32(uint16_t *r, uint32_t v);
void bcodec_put_i32(uint16_t *r, int32_t v);
static inline int16_t bcodec_get_i16(uint16_t r)
{
	return (int16_t)r;
}
static inline uint16_t bcodec_put_i16(int16_t v)
{
	return (uint16_t)v;
}

/* f32: IEEE-754 binary32, ABCD (high word first, big-endian bytes in each register). */
float bcodec_get_f32(const uint16_t *r);
void bcodec_put_f32(uint16_t *r, float v);

/*
 * Other word/byte orders for 32-bit values, for vendor backends (the bench
 * protocol itself is ABCD). Letters name the bytes of the big-endian value
 * in register order: ABCD = high word first; CDAB = word-swapped; BADC =
 * bytes swapped in each register; DCBA = fully reversed. Names follow
 * libmodbus >= 3.1.11 (its 3.1.6 tag used the opposite labels, tech-notes §1.8).
 */
enum bcodec_order {
	BCODEC_ABCD = 0,
	BCODEC_DCBA = 1,
	BCODEC_BADC = 2,
	BCODEC_CDAB = 3
};
uint32_t bcodec_get_u32_order(const uint16_t *r, enum bcodec_order o);
void bcodec_put_u32_order(uint16_t *r, uint32_t v, enum bcodec_order o);
float bcodec_get_f32_order(const uint16_t *r, enum bcodec_order o);
void bcodec_put_f32_order(uint16_t *r, float v, enum bcodec_order o);

/*
 * str[n]: nregs registers, first character in the high byte, NUL padded.
 * get writes at most out_size-1 characters and always terminates out.
 * put truncates s to 2*nregs characters and pads with NUL.
 */
void bcodec_get_str(const uint16_t *r, int nregs, char *out, size_t out_size);
void bcodec_put_str(uint16_t *r, int nregs, const char *s);

/*
 * dec4: i32 holding value x 10 000. Parsing is exact decimal text ->
 * integer ("-0.1705" -> -1705, "+1" -> 10000); more than four decimals,
 * junk, or overflow return -1 (nothing written to *out). Formatting writes
 * the shortest exact text with at least one decimal ("-0.1705", "12.5",
 * "0.0") into buf and returns buf.
 */
int bcodec_dec4_parse(const char *s, int32_t *out);
const char *bcodec_dec4_format(int32_t v, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
