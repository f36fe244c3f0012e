// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dtlib: command-line numbers.
 *
 * Copyright (c) 2026 The dma-testdev authors
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <dtlib/parse.h>

int dmatd_parse_u64(const char *s, uint64_t *val, bool suffix, int base)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	/* strtoull() would take "-1" as ULLONG_MAX. */
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, base);
	if (end == s)
		return -EINVAL;
	if (errno)
		return -ERANGE;
	if (suffix && *end) {
		switch (*end) {
		case 'k': case 'K':
			shift = 10;
			break;
		case 'm': case 'M':
			shift = 20;
			break;
		case 'g': case 'G':
			shift = 30;
			break;
		default:
			return -EINVAL;
		}
		end++;
	}
	if (*end)
		return -EINVAL;
	if (v > (ULLONG_MAX >> shift))
		return -ERANGE;
	*val = (uint64_t)v << shift;
	return 0;
}

int dmatd_parse_name(const char *s, const char *const *names, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (names[i] && !strcmp(s, names[i]))
			return i;
	return -EINVAL;
}
