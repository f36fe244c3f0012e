/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dtlib: what every guest tool does the same way.
 *
 * A tool names itself and how it reports a fatal error once
 * (dmatd_tool_init()); from then on dmatd_fatal() and DMATD_CHECK_CALL()
 * end it with exit status 2 in its own output protocol, dmatd_bad_arg()
 * rejects a command-line argument with its usage, and library messages
 * become "# dtlib: ..." lines on stdout.
 *
 * For the tools that speak TAP and the "@dt" lines of
 * docs/guest-protocol.rst: dmatd_diag(), dmatd_proto(), dmatd_check()
 * (one check: a TAP line and an "@dt check" line), cases
 * (dmatd_set_case(), dmatd_end_case()) and the totals (dmatd_tap_done()).
 *
 * Copyright (c) 2026 The dma-testdev authors
 */
#ifndef DTLIB_TOOL_H
#define DTLIB_TOOL_H

#include <stdbool.h>
#include <stdio.h>

#include <dtlib/log.h>

/*
 * @name for messages, @usage prints the tool's options, @report prints a
 * fatal error's message the way the tool's protocol wants it.  Makes
 * stdout line buffered: whole lines, in order with the host's reads.
 */
void dmatd_tool_init(const char *name, void (*usage)(FILE *f),
		     dmatd_log_fn report);

/* The tool cannot go on: report, exit with status 2. */
void __noreturn dmatd_fatal(const char *fmt, ...) __printf(1, 2);

/* A library call failed: its message names the call and the errno. */
#define DMATD_CHECK_CALL(expr)						\
	do {								\
		if ((expr) < 0)						\
			dmatd_fatal("%s", dmatd_last_error());		\
	} while (0)

/* "NAME: bad WHAT 'ARG'" and the usage on stderr, exit status 2. */
void __noreturn dmatd_bad_arg(const char *what, const char *arg);

/* The index of @arg among the @n @names; else dmatd_bad_arg(@what, @arg). */
int dmatd_arg_name(const char *what, const char *arg,
		   const char *const *names, unsigned int n);

/* The usage on stderr (getopt said why), exit status 2. */
void __noreturn dmatd_usage_error(void);

/* --help: the usage on stdout, exit status 0. */
void __noreturn dmatd_usage_help(void);

/* "# ..." and "@dt ..." lines, one whole line at a time. */
void dmatd_diag(const char *fmt, ...) __printf(1, 2);
void dmatd_proto(const char *fmt, ...) __printf(1, 2);

/* "TAP version 13" and the kernel's release in a comment. */
void dmatd_tap_start(void);

/*
 * The case the next checks belong to (NULL: "setup"); "@dt begin" is the
 * caller's.  dmatd_end_case() prints "@dt end case=... result=...".
 */
void dmatd_set_case(const char *name);
const char *dmatd_cur_case(void);
void dmatd_end_case(void);

/*
 * Record one check: a TAP test line, and an "@dt check" line for the
 * host.  Returns @ok so that callers can stop when a check they depend on
 * fails.
 */
bool dmatd_check(const char *name, bool ok, const char *fmt, ...)
	__printf(3, 4);

/* "1..N", the totals; the exit status: 1 if a check failed, else 0. */
int dmatd_tap_done(void);

/* "@dt fatal", the current case failed, "Bail out!": a TAP tool's report. */
void dmatd_tap_fatal(const char *msg);

/* "success" or "<strerror> (errno N)" for a 0 or -errno return value. */
const char *dmatd_errname(int ret);

/* Raise or drop @cap (below 32) in the effective set; it stays permitted. */
int dmatd_set_cap(int cap, bool on);

/* A "Vm...:" field of /proc/self/status, in kB: -1 if it is missing. */
long dmatd_status_kb(const char *field);

#endif /* DTLIB_TOOL_H */
