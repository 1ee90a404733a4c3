/*
 * sampling_table.h — the ISO 2859-1 / GB/T 2828.1 tables as C data
 * (generated into sampling_table.c by lab/sampling_gen.py from the shared
 * reference and lab/iso2859-1-tightened-reduced.json). Internal to
 * lab/sampling.c and its test; static storage, read-only, thread-safe.
 */
#ifndef ML_LAB_SAMPLING_TABLE_H
#define ML_LAB_SAMPLING_TABLE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SAMPLING_T1_ROWS 15
#define SAMPLING_LETTERS 16
#define SAMPLING_AQLS 15
#define SAMPLING_LEVELS 7

struct sampling_t1_row {
	uint32_t lot_min, lot_max;         /* lot_max 0: no upper bound */
	char letters[SAMPLING_LEVELS + 1]; /* code letter per level S-1 S-2 S-3 S-4 I II III */
};

struct sampling_cell {
	char cell;       /* 'P' plan, 'D' arrow down, 'U' arrow up */
	char use_letter; /* letter whose plan applies; 0 when the table gives none */
	uint32_t n;
	int ac, re;
	int unverified; /* edge cell the reference could not verify (domain 3.3), or a single-source
			   cell (every cell of Table 2-C) */
};

extern const struct sampling_t1_row sampling_table1[SAMPLING_T1_ROWS];
extern const char sampling_letters[SAMPLING_LETTERS + 1];
extern const uint32_t sampling_sizes[SAMPLING_LETTERS];
/* Sample size of each code letter's own plans under reduced inspection (Table 2-C). */
extern const uint32_t sampling_sizes_reduced[SAMPLING_LETTERS];
/* Table 2-A normal, 2-B tightened (arrows may lead to letter S, n 3150), 2-C reduced. */
extern const struct sampling_cell sampling_table2a[SAMPLING_LETTERS][SAMPLING_AQLS];
extern const struct sampling_cell sampling_table2b[SAMPLING_LETTERS][SAMPLING_AQLS];
extern const struct sampling_cell sampling_table2c[SAMPLING_LETTERS][SAMPLING_AQLS];

#ifdef __cplusplus
}
#endif
#endif
