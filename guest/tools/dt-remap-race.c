// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dt-remap-race: MMIO reads on one CPU while another CPU changes the
 * memory map.
 *
 * Two dma-testdev functions are needed.  The reader (the one with the
 * higher BAR0 address) is bound to vfio-pci and its BAR0 mapped; a thread
 * on CPU 1 writes a seed to DMATD_REG_SEED and reads it back as fast as it
 * can.  A thread on CPU 0 turns Memory Space of the other function off and
 * on through its config space (sysfs), so that the emulator rebuilds its
 * memory map under the reader, again and again.  A remap elsewhere must
 * never change what a read of an unmoved register returns: any other
 * value is a read the emulator delivered to the wrong place (in QEMU under
 * TCG, a stale TLB entry resolved against the new map), and QEMU must not
 * crash doing it.
 *
 *   dt-remap-race [--seconds N]      (default 20)
 *
 * Output: "@dt check name=remap-race result=ok|fail reads=N remaps=N
 * wrong=N first=0x..." and exit status 0 (ok), 1 (wrong reads) or 2
 * (could not run).
 *
 * Copyright (c) 2026 The dma-testdev authors
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/pci_regs.h>

#include <dtlib/log.h>
#include <dtlib/mem.h>
#include <dtlib/parse.h>
#include <dtlib/pci.h>
#include <dtlib/tool.h>
#include <dtlib/vfio.h>

#include <hw/misc/dma-testdev.h>

#define PCI_DEVICES	"/sys/bus/pci/devices"
#define SEED		0x5eed4ace

struct race {
	volatile uint32_t *seed_reg;	/* the reader's DMATD_REG_SEED */
	int toggle_fd;			/* the other function's config */
	uint16_t toggle_cmd;		/* its COMMAND register as found */
	volatile bool stop;
	uint64_t reads;
	uint64_t wrong;
	uint32_t first_wrong;
	uint64_t remaps;
	int toggle_err;
};

static void report_fatal(const char *msg)
{
	printf("@dt check name=remap-race result=error msg=%s\n", msg);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void pin_to_cpu(int cpu)
{
	int ret = dmatd_try_cpu(cpu);

	if (ret)
		dmatd_fatal("sched_setaffinity CPU %d: %s", cpu, strerror(-ret));
}

/* BAR0's bus address, from the resource file's first line. */
static uint64_t bar0_addr(const char *bdf)
{
	char path[128], buf[256];
	uint64_t start;

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/resource", bdf);
	if (dmatd_sysfs_read(path, buf, sizeof(buf)) < 0)
		dmatd_fatal("%s", dmatd_last_error());
	if (sscanf(buf, "%" SCNx64, &start) != 1)
		dmatd_fatal("%s: no BAR0 in '%s'", path, buf);
	return start;
}

/* A sysfs file holding one hexadecimal number ("0x1af4\n"). */
static int read_hex(const char *path, unsigned long *val)
{
	char buf[32], *end;

	if (dmatd_sysfs_read(path, buf, sizeof(buf)) < 0)
		return -1;
	errno = 0;
	*val = strtoul(buf, &end, 16);
	return errno || end == buf ? -1 : 0;
}

/* Both dma-testdev functions, the one with the higher BAR0 first. */
static void find_pair(char reader[DMATD_BDF_LEN], char other[DMATD_BDF_LEN])
{
	char bdf[2][DMATD_BDF_LEN];
	struct dirent *e;
	int n = 0;
	DIR *d;

	d = opendir(PCI_DEVICES);
	if (!d)
		dmatd_fatal("opendir %s: %s", PCI_DEVICES, strerror(errno));
	while ((e = readdir(d))) {
		unsigned long vendor, device;
		char path[300];

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), PCI_DEVICES "/%s/vendor",
			 e->d_name);
		if (read_hex(path, &vendor) < 0)
			continue;
		snprintf(path, sizeof(path), PCI_DEVICES "/%s/device",
			 e->d_name);
		if (read_hex(path, &device) < 0)
			continue;
		if (vendor != DMA_TESTDEV_VENDOR_ID ||
		    device != DMA_TESTDEV_DEVICE_ID)
			continue;
		if (n == 2)
			dmatd_fatal("more than two dma-testdev functions");
		if (strlen(e->d_name) >= DMATD_BDF_LEN)
			dmatd_fatal("%s: not a PCI address", e->d_name);
		memcpy(bdf[n++], e->d_name, strlen(e->d_name) + 1);
	}
	closedir(d);
	if (n != 2)
		dmatd_fatal("%d dma-testdev functions, want 2", n);
	if (bar0_addr(bdf[0]) < bar0_addr(bdf[1])) {
		snprintf(reader, DMATD_BDF_LEN, "%s", bdf[1]);
		snprintf(other, DMATD_BDF_LEN, "%s", bdf[0]);
	} else {
		snprintf(reader, DMATD_BDF_LEN, "%s", bdf[0]);
		snprintf(other, DMATD_BDF_LEN, "%s", bdf[1]);
	}
}

static int write_cmd(struct race *r, uint16_t cmd)
{
	if (pwrite(r->toggle_fd, &cmd, sizeof(cmd), PCI_COMMAND) !=
	    sizeof(cmd))
		return -errno;
	return 0;
}

/* CPU 0: Memory Space of the other function off and on. */
static void *toggler(void *arg)
{
	struct race *r = arg;
	int ret;

	pin_to_cpu(0);
	while (!r->stop) {
		ret = write_cmd(r, r->toggle_cmd & ~PCI_COMMAND_MEMORY);
		if (!ret)
			ret = write_cmd(r, r->toggle_cmd | PCI_COMMAND_MEMORY);
		if (ret) {
			r->toggle_err = ret;
			break;
		}
		r->remaps += 2;
	}
	return NULL;
}

/* CPU 1: the reader's seed, read back, again and again. */
static void *reader(void *arg)
{
	struct race *r = arg;
	uint32_t v;

	pin_to_cpu(1);
	while (!r->stop) {
		v = *r->seed_reg;
		r->reads++;
		if (v != SEED) {
			if (!r->wrong++)
				r->first_wrong = v;
		}
	}
	return NULL;
}

static void print_usage(FILE *f)
{
	fprintf(f,
		"usage: dt-remap-race [options]\n"
		"  --seconds N   how long to race (1..3600, default 20)\n"
		"  --help\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "seconds", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char rbdf[DMATD_BDF_LEN], obdf[DMATD_BDF_LEN], path[128];
	struct race r = { .toggle_fd = -1 };
	unsigned long seconds = 20;
	pthread_t t_read, t_toggle;
	struct dmatd_vfio v;
	uint64_t deadline, arg;
	size_t bar_len;
	void *bar;
	int c;

	dmatd_tool_init("dt-remap-race", print_usage, report_fatal);
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (dmatd_parse_u64(optarg, &arg, false, 0) || !arg ||
			    arg > 3600)
				dmatd_bad_arg("--seconds (1..3600)", optarg);
			seconds = arg;
			break;
		case 'h':
			dmatd_usage_help();
		default:
			dmatd_usage_error();
		}
	}
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		dmatd_fatal("needs two CPUs, has %ld",
		      sysconf(_SC_NPROCESSORS_ONLN));

	find_pair(rbdf, obdf);
	if (dmatd_vfio_open(&v, rbdf, DMATD_VFIO_CDEV) < 0)
		dmatd_fatal("%s", dmatd_last_error());
	if (dmatd_vfio_map_bar(&v, 0, &bar, &bar_len) < 0)
		dmatd_fatal("%s", dmatd_last_error());
	r.seed_reg = (volatile uint32_t *)((uint8_t *)bar + DMATD_REG_SEED);
	*r.seed_reg = SEED;
	if (*r.seed_reg != SEED)
		dmatd_fatal("%s: DMATD_REG_SEED reads 0x%x after writing 0x%x", rbdf,
		      *r.seed_reg, SEED);

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/config", obdf);
	r.toggle_fd = open(path, O_RDWR);
	if (r.toggle_fd < 0 ||
	    pread(r.toggle_fd, &r.toggle_cmd, sizeof(r.toggle_cmd),
		  PCI_COMMAND) != sizeof(r.toggle_cmd))
		dmatd_fatal("%s: %s", path, strerror(errno));
	printf("# reader %s (BAR0 0x%" PRIx64 "), remapped %s (BAR0 0x%"
	       PRIx64 "), %lu s\n", rbdf, bar0_addr(rbdf), obdf,
	       bar0_addr(obdf), seconds);

	if (pthread_create(&t_read, NULL, reader, &r) ||
	    pthread_create(&t_toggle, NULL, toggler, &r))
		dmatd_fatal("pthread_create failed");
	deadline = now_ns() + seconds * 1000000000ULL;
	while (now_ns() < deadline && !r.toggle_err)
		usleep(100 * 1000);
	r.stop = true;
	pthread_join(t_read, NULL);
	pthread_join(t_toggle, NULL);
	write_cmd(&r, r.toggle_cmd);
	close(r.toggle_fd);
	dmatd_vfio_unmap_bar(bar, bar_len);
	dmatd_vfio_close(&v);

	if (r.toggle_err)
		dmatd_fatal("%s: COMMAND write: %s", obdf, strerror(-r.toggle_err));
	if (!r.reads || !r.remaps)
		dmatd_fatal("nothing ran: %" PRIu64 " reads, %" PRIu64 " remaps",
		      r.reads, r.remaps);
	printf("@dt check name=remap-race result=%s reads=%" PRIu64
	       " remaps=%" PRIu64 " wrong=%" PRIu64 " first=0x%x\n",
	       r.wrong ? "fail" : "ok", r.reads, r.remaps, r.wrong,
	       r.first_wrong);
	return r.wrong ? 1 : 0;
}
