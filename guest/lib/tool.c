// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dtlib: what every guest tool does the same way.
 *
 * Copyright (c) 2026 The dma-testdev authors
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <linux/capability.h>

#include <dtlib/parse.h>
#include <dtlib/tool.h>

static const char *tool_name = "dt";
static void (*tool_usage)(FILE *f);
static dmatd_log_fn tool_report;

static unsigned int tap_n, tap_pass, tap_fail;
static const char *cur_case;
static bool cur_failed;
static struct timespec t_start;

/* One whole line at a time, so that lines never interleave on the console. */
static void vline(const char *prefix, const char *fmt, va_list ap)
{
	char line[1024];

	vsnprintf(line, sizeof(line), fmt, ap);
	printf("%s%s\n", prefix, line);
}

void dmatd_diag(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline("# ", fmt, ap);
	va_end(ap);
}

void dmatd_proto(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline("@dt ", fmt, ap);
	va_end(ap);
}

static void lib_log(const char *msg)
{
	dmatd_diag("dtlib: %s", msg);
}

static void stderr_report(const char *msg)
{
	fprintf(stderr, "%s: %s\n", tool_name, msg);
}

void dmatd_tool_init(const char *name, void (*usage)(FILE *f),
		     dmatd_log_fn report)
{
	tool_name = name;
	tool_usage = usage;
	tool_report = report;
	setvbuf(stdout, NULL, _IOLBF, 0);
	dmatd_set_log_fn(lib_log);
	clock_gettime(CLOCK_MONOTONIC, &t_start);
}

void dmatd_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dmatd_vlog_to(tool_report ?: stderr_report, fmt, ap);
	va_end(ap);
	fflush(stdout);
	exit(2);
}

void dmatd_usage_error(void)
{
	if (tool_usage)
		tool_usage(stderr);
	exit(2);
}

void dmatd_usage_help(void)
{
	if (tool_usage)
		tool_usage(stdout);
	exit(0);
}

void dmatd_bad_arg(const char *what, const char *arg)
{
	fprintf(stderr, "%s: bad %s '%s'\n", tool_name, what, arg);
	dmatd_usage_error();
}

int dmatd_arg_name(const char *what, const char *arg,
		   const char *const *names, unsigned int n)
{
	int i = dmatd_parse_name(arg, names, n);

	if (i < 0)
		dmatd_bad_arg(what, arg);
	return i;
}

void dmatd_tap_start(void)
{
	struct utsname u;

	printf("TAP version 13\n");
	if (!uname(&u))
		dmatd_diag("kernel %s %s", u.release, u.version);
}

void dmatd_set_case(const char *name)
{
	cur_case = name;
	cur_failed = false;
}

const char *dmatd_cur_case(void)
{
	return cur_case;
}

void dmatd_end_case(void)
{
	dmatd_proto("end case=%s result=%s", cur_case,
		    cur_failed ? "fail" : "pass");
	cur_case = NULL;
}

bool dmatd_check(const char *name, bool ok, const char *fmt, ...)
{
	char detail[768] = "";
	va_list ap;

	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(detail, sizeof(detail), fmt, ap);
		va_end(ap);
	}
	dmatd_proto("check name=%s result=%s%s%s", name, ok ? "ok" : "fail",
		    detail[0] ? " " : "", detail);
	tap_n++;
	printf("%sok %u %s/%s\n", ok ? "" : "not ", tap_n,
	       cur_case ? cur_case : "setup", name);
	if (detail[0] && !ok)
		dmatd_diag("%s: %s", name, detail);
	if (ok) {
		tap_pass++;
	} else {
		tap_fail++;
		cur_failed = true;
	}
	return ok;
}

int dmatd_tap_done(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	printf("1..%u\n", tap_n);
	dmatd_diag("Totals: pass:%u fail:%u xfail:0 xpass:0 skip:0 error:0 (%.2f s)",
		   tap_pass, tap_fail, ts.tv_sec - t_start.tv_sec +
		   (ts.tv_nsec - t_start.tv_nsec) / 1e9);
	return tap_fail ? 1 : 0;
}

void dmatd_tap_fatal(const char *msg)
{
	dmatd_proto("fatal msg=%s", msg);
	if (cur_case)
		dmatd_proto("end case=%s result=fail", cur_case);
	printf("Bail out! %s\n", msg);
}

const char *dmatd_errname(int ret)
{
	static char buf[64];

	if (!ret)
		return "success";
	snprintf(buf, sizeof(buf), "%s (errno %d)", strerror(-ret), -ret);
	return buf;
}

int dmatd_set_cap(int cap, bool on)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &hdr, data))
		return dmatd_err(errno, "capget");
	if (on)
		data[0].effective |= 1U << cap;
	else
		data[0].effective &= ~(1U << cap);
	if (syscall(SYS_capset, &hdr, data))
		return dmatd_err(errno, "capset %s capability %d",
				 on ? "raising" : "dropping", cap);
	return 0;
}

long dmatd_status_kb(const char *field)
{
	FILE *f = fopen("/proc/self/status", "re");
	size_t n = strlen(field);
	char line[256];
	long kb = -1;

	if (!f)
		return dmatd_err(errno, "open /proc/self/status");
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, n) && line[n] == ':')
			kb = strtol(line + n + 1, NULL, 10);
	fclose(f);
	return kb;
}
