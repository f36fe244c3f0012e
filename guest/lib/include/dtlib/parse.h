/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dtlib: command-line numbers, parsed the same way by every tool.
 *
 * Copyright (c) 2026 The dma-testdev authors
 */
#ifndef DTLIB_PARSE_H
#define DTLIB_PARSE_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Parse all of @s as an unsigned number in @base (0: C prefixes) into
 * *@val; with @suffix a trailing K, M or G (either case) multiplies by
 * 2^10, 2^20 or 2^30.  Returns 0, -EINVAL for anything but a number (a
 * sign, trailing text, nothing), or -ERANGE when it does not fit in 64
 * bits, suffix included.
 */
int dmatd_parse_u64(const char *s, uint64_t *val, bool suffix, int base);

/* The index of @s among the @n @names (NULL: none there), or -EINVAL. */
int dmatd_parse_name(const char *s, const char *const *names, unsigned int n);

#endif /* DTLIB_PARSE_H */
