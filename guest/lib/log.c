// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dtlib: error reporting.
 *
 * Copyright (c) 2026 The dma-testdev authors
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dtlib/log.h>

static dmatd_log_fn log_fn;
static char last_error[512];

void dmatd_set_log_fn(dmatd_log_fn fn)
{
	log_fn = fn;
}

static void emit(const char *msg)
{
	if (log_fn)
		log_fn(msg);
	else
		fprintf(stderr, "dtlib: %s\n", msg);
}

void dmatd_vlog_to(dmatd_log_fn fn, const char *fmt, va_list ap)
{
	char msg[768];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	fn(msg);
}

void dmatd_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dmatd_vlog_to(emit, fmt, ap);
	va_end(ap);
}

int dmatd_err(int err, const char *fmt, ...)
{
	char what[400], msg[sizeof(last_error)];
	va_list ap;

	/* A short read or write sets no errno: call it an I/O error. */
	if (err <= 0)
		err = EIO;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(msg, sizeof(msg), "%s: %s (errno %d)", what, strerror(err),
		 err);
	memcpy(last_error, msg, sizeof(last_error));
	emit(last_error);
	return -err;
}

int dmatd_fail(int err, const char *fmt, ...)
{
	char msg[sizeof(last_error)];
	va_list ap;

	/* Through a copy: the arguments may include dmatd_last_error(). */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	memcpy(last_error, msg, sizeof(last_error));
	emit(last_error);
	return -err;
}

const char *dmatd_last_error(void)
{
	return last_error;
}
