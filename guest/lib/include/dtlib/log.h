/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dtlib: error reporting.
 *
 * Every library function that fails says why through dmatd_err(): the call
 * that failed, what it was called on, and strerror(errno).  The message
 * goes to a hook (stderr by default) so that a tool can turn it into its
 * own diagnostics, and is kept for dmatd_last_error().
 *
 * Copyright (c) 2026 The dma-testdev authors
 */
#ifndef DTLIB_LOG_H
#define DTLIB_LOG_H

#include <stdarg.h>

/* The kernel's spellings, as in tools/include/linux/compiler.h. */
#ifndef __printf
#define __printf(a, b)	__attribute__((format(printf, a, b)))
#endif
#ifndef __noreturn
#define __noreturn	__attribute__((noreturn))
#endif
#ifndef __aligned
#define __aligned(x)	__attribute__((aligned(x)))
#endif
#ifndef noinline
#define noinline	__attribute__((__noinline__))
#endif
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

typedef void (*dmatd_log_fn)(const char *msg);

/* Route library messages to @fn; NULL restores stderr. */
void dmatd_set_log_fn(dmatd_log_fn fn);

/* Format a message and hand it to @fn. */
void dmatd_vlog_to(dmatd_log_fn fn, const char *fmt, va_list ap)
	__printf(2, 0);

/* Log an informational message. */
void dmatd_log(const char *fmt, ...) __printf(1, 2);

/*
 * Log "<fmt>: <strerror(err)> (errno <err>)" and return -err.  @err is a
 * positive errno value; 0 (e.g. a short read) is reported as EIO.
 */
int dmatd_err(int err, const char *fmt, ...) __printf(2, 3);

/* Log a failure that has no errno and return -@err (positive errno). */
int dmatd_fail(int err, const char *fmt, ...) __printf(2, 3);

/* The last message logged by dmatd_err() or dmatd_fail(). */
const char *dmatd_last_error(void);

#endif /* DTLIB_LOG_H */
