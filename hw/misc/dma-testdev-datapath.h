/*
 * dma-testdev: the data path's loops over whole 64-bit words
 * (dma-testdev-datapath.c).  They touch no device state, so
 * tests/qtest/dma-testdev-bench links them too, to time them on memory of
 * its own beside the device.
 *
 * Copyright (c) 2026 The dma-testdev authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MISC_DMA_TESTDEV_DATAPATH_H
#define HW_MISC_DMA_TESTDEV_DATAPATH_H

typedef struct DmatdWordGen {
    uint64_t base;              /* word = base | (word index & mask) */
    uint64_t mask;
} DmatdWordGen;

/*
 * The word that WRITE_PATTERN (base = seed << 32, mask = UINT32_MAX) or
 * FILL (base = the fill value, mask = 0) puts at word index @idx.  The
 * vector loops of dma-testdev-datapath.c compute it lane by lane.
 */
static inline uint64_t dmatd_gen_word(const DmatdWordGen *g, uint64_t idx)
{
    return g->base | (idx & g->mask);
}

/* The widest loops this host runs, at most @max words a block: 8, 4 or 1. */
unsigned dmatd_words_lanes_best(unsigned max);
uint64_t dmatd_words_csum(unsigned lanes, const uint8_t *src, uint64_t n,
                          uint64_t idx);
uint64_t dmatd_words_copy(unsigned lanes, uint8_t *dst, const uint8_t *src,
                          uint64_t n, uint64_t idx);
uint64_t dmatd_words_generate(unsigned lanes, uint8_t *dst, uint64_t n,
                              uint64_t idx, const DmatdWordGen *g);
uint64_t dmatd_words_verify(unsigned lanes, const uint8_t *src, uint64_t n,
                            uint64_t idx, const DmatdWordGen *g,
                            bool *differs);

#endif
