// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dtlib: PCI devices through sysfs.
 *
 * Copyright (c) 2026 The dma-testdev authors
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <dtlib/log.h>
#include <dtlib/pci.h>

#define PCI_DEVICES	"/sys/bus/pci/devices"
#define NOIOMMU_PARAM	"/sys/module/vfio/parameters/enable_unsafe_noiommu_mode"

int dmatd_sysfs_read(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return dmatd_err(errno, "open %s", path);
	n = read(fd, buf, size - 1);
	if (n < 0) {
		int err = errno;

		close(fd);
		return dmatd_err(err, "read %s", path);
	}
	close(fd);
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

int dmatd_sysfs_write(const char *path, const char *val)
{
	size_t len = strlen(val);
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return dmatd_err(errno, "open %s", path);
	n = write(fd, val, len);
	if (n < 0 || (size_t)n != len) {
		int err = n < 0 ? errno : EIO;

		close(fd);
		return dmatd_err(err, "write '%s' to %s", val, path);
	}
	if (close(fd))
		return dmatd_err(errno, "close %s after writing '%s'", path, val);
	return 0;
}

static int read_hex(const char *bdf, const char *attr, unsigned long *val)
{
	char path[PATH_MAX], buf[32], *end;
	int ret;

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/%s", bdf, attr);
	ret = dmatd_sysfs_read(path, buf, sizeof(buf));
	if (ret)
		return ret;
	errno = 0;
	*val = strtoul(buf, &end, 16);
	if (errno || end == buf)
		return dmatd_fail(EINVAL, "%s: '%s' is not a hex number", path,
				  buf);
	return 0;
}

int dmatd_pci_find(uint16_t vendor, uint16_t device, char *bdf, size_t size)
{
	unsigned long v, d;
	struct dirent *de;
	int found = 0;
	DIR *dir;

	dir = opendir(PCI_DEVICES);
	if (!dir)
		return dmatd_err(errno, "opendir " PCI_DEVICES);
	while ((errno = 0, de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		if (read_hex(de->d_name, "vendor", &v) ||
		    read_hex(de->d_name, "device", &d))
			continue;
		if (v != vendor || d != device)
			continue;
		if (found)
			dmatd_log("%04x:%04x also at %s", vendor, device,
				  de->d_name);
		if (!found || strcmp(de->d_name, bdf) < 0)
			snprintf(bdf, size, "%s", de->d_name);
		found++;
	}
	if (errno) {
		int err = errno;

		closedir(dir);
		return dmatd_err(err, "readdir " PCI_DEVICES);
	}
	closedir(dir);
	if (!found)
		return dmatd_fail(ENODEV, "no PCI device %04x:%04x in "
				  PCI_DEVICES, vendor, device);
	return 0;
}

int dmatd_pci_driver(const char *bdf, char *name, size_t size)
{
	char path[PATH_MAX], link[PATH_MAX];
	const char *base;
	ssize_t n;

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/driver", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0) {
		if (errno == ENOENT) {
			snprintf(name, size, "%s", "");
			return 0;
		}
		return dmatd_err(errno, "readlink %s", path);
	}
	link[n] = '\0';
	base = strrchr(link, '/');
	snprintf(name, size, "%s", base ? base + 1 : link);
	return 0;
}

/* What usually makes vfio-pci refuse a device with no IOMMU. */
static const char *probe_failure_hint(void)
{
	char val[8];

	if (access("/sys/bus/pci/drivers/vfio-pci", F_OK))
		return "no vfio-pci driver: is CONFIG_VFIO_PCI set?";
	if (access(NOIOMMU_PARAM, F_OK))
		return "no " NOIOMMU_PARAM ": is CONFIG_VFIO_NOIOMMU set?";
	if (!dmatd_sysfs_read(NOIOMMU_PARAM, val, sizeof(val)) && val[0] != 'Y')
		return "vfio no-IOMMU mode is off: boot with vfio.enable_unsafe_noiommu_mode=1";
	return "see the kernel log";
}

int dmatd_pci_bind_vfio(const char *bdf)
{
	char path[PATH_MAX], drv[64];
	int ret;

	ret = dmatd_pci_driver(bdf, drv, sizeof(drv));
	if (ret)
		return ret;
	if (!strcmp(drv, "vfio-pci"))
		return 0;

	/*
	 * Override first, so that nothing but vfio-pci can claim the device
	 * between the unbind and the probe.
	 */
	snprintf(path, sizeof(path), PCI_DEVICES "/%s/driver_override", bdf);
	ret = dmatd_sysfs_write(path, "vfio-pci");
	if (ret)
		return ret;
	if (drv[0]) {
		dmatd_log("%s: unbinding from %s", bdf, drv);
		snprintf(path, sizeof(path), PCI_DEVICES "/%s/driver/unbind",
			 bdf);
		ret = dmatd_sysfs_write(path, bdf);
		if (ret)
			return ret;
	}
	ret = dmatd_sysfs_write("/sys/bus/pci/drivers_probe", bdf);
	if (ret)
		return dmatd_fail(-ret, "%s; %s", dmatd_last_error(),
				  probe_failure_hint());
	ret = dmatd_pci_driver(bdf, drv, sizeof(drv));
	if (ret)
		return ret;
	if (strcmp(drv, "vfio-pci"))
		return dmatd_fail(ENODEV, "%s: bound to '%s' after drivers_probe, not vfio-pci; %s",
				  bdf, drv, probe_failure_hint());
	return 0;
}

int dmatd_pci_noiommu_cdev(const char *bdf, char *path, size_t size)
{
	char dirpath[PATH_MAX], other[NAME_MAX + 1] = "";
	struct dirent *de;
	int found = 0;
	DIR *dir;

	/*
	 * The no-IOMMU cdev is named noiommu-vfioN: a search for names
	 * starting with "vfio" would miss it.
	 */
	snprintf(dirpath, sizeof(dirpath), PCI_DEVICES "/%s/vfio-dev", bdf);
	dir = opendir(dirpath);
	if (!dir)
		return dmatd_err(errno, "opendir %s (is CONFIG_VFIO_DEVICE_CDEV set?)",
				 dirpath);
	while ((de = readdir(dir))) {
		if (!strncmp(de->d_name, "noiommu-vfio", 12)) {
			snprintf(path, size, "/dev/vfio/devices/%s",
				 de->d_name);
			found = 1;
			break;
		}
		if (!strncmp(de->d_name, "vfio", 4))
			snprintf(other, sizeof(other), "%s", de->d_name);
	}
	closedir(dir);
	if (found)
		return 0;
	if (other[0])
		return dmatd_fail(EOPNOTSUPP, "%s: cdev %s is not a no-IOMMU one (the device has an IOMMU?)",
				  bdf, other);
	return dmatd_fail(ENOENT, "%s: no VFIO device cdev in %s (is CONFIG_IOMMUFD_NOIOMMU set?)",
			  bdf, dirpath);
}

int dmatd_pci_iommu_group(const char *bdf, int *group)
{
	char path[PATH_MAX], link[PATH_MAX], *base, *end;
	ssize_t n;
	long g;

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/iommu_group", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return dmatd_err(errno, "readlink %s", path);
	link[n] = '\0';
	base = strrchr(link, '/');
	base = base ? base + 1 : link;
	g = strtol(base, &end, 10);
	if (end == base || *end || g < 0)
		return dmatd_fail(EINVAL, "%s -> %s: not a group number", path,
				  link);
	*group = g;
	return 0;
}
