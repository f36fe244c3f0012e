// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dtlib: a PCI device opened through VFIO in no-IOMMU mode.
 *
 * Copyright (c) 2026 The dma-testdev authors
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/pci_regs.h>

#include <dtlib/log.h>
#include <dtlib/vfio.h>

const char *dmatd_vfio_mode_name(enum dmatd_vfio_mode mode)
{
	return mode == DMATD_VFIO_CDEV ? "cdev" : "legacy";
}

/*
 * The cdev path: the device is bound to an iommufd and attached to an
 * IOAS; its no-IOMMU domain only records IOVA -> PA for GET_PA.
 */
static int open_cdev(struct dmatd_vfio *v)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach),
	};
	int ret;

	ret = dmatd_pci_noiommu_cdev(v->bdf, v->cdev, sizeof(v->cdev));
	if (ret)
		return ret;
	v->device_fd = open(v->cdev, O_RDWR | O_CLOEXEC);
	if (v->device_fd < 0)
		return dmatd_err(errno, "open %s (needs CAP_SYS_RAWIO)", v->cdev);

	v->iommufd = dmatd_iommufd_open();
	if (v->iommufd < 0)
		return v->iommufd;

	bind.iommufd = v->iommufd;
	if (ioctl(v->device_fd, VFIO_DEVICE_BIND_IOMMUFD, &bind))
		return dmatd_err(errno, "ioctl VFIO_DEVICE_BIND_IOMMUFD %s",
				 v->cdev);
	v->devid = bind.out_devid;

	ret = dmatd_ioas_alloc(v->iommufd, &v->ioas_id);
	if (ret)
		return ret;

	attach.pt_id = v->ioas_id;
	if (ioctl(v->device_fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach))
		return dmatd_err(errno, "ioctl VFIO_DEVICE_ATTACH_IOMMUFD_PT %s to IOAS %u",
				 v->cdev, v->ioas_id);
	return 0;
}

/*
 * The legacy path: a group in a container of type VFIO_NOIOMMU_IOMMU,
 * which offers no DMA mapping at all.
 */
static int open_legacy(struct dmatd_vfio *v)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char path[64];
	int ret;

	ret = dmatd_pci_iommu_group(v->bdf, &v->group);
	if (ret)
		return ret;

	v->container_fd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (v->container_fd < 0)
		return dmatd_err(errno, "open /dev/vfio/vfio (is CONFIG_VFIO_CONTAINER set?)");
	ret = ioctl(v->container_fd, VFIO_GET_API_VERSION);
	if (ret != VFIO_API_VERSION)
		return dmatd_fail(EPROTO, "VFIO_GET_API_VERSION: %d, want %d",
				  ret, VFIO_API_VERSION);
	ret = ioctl(v->container_fd, VFIO_CHECK_EXTENSION, VFIO_NOIOMMU_IOMMU);
	if (ret < 0)
		return dmatd_err(errno, "ioctl VFIO_CHECK_EXTENSION VFIO_NOIOMMU_IOMMU");
	if (!ret)
		return dmatd_fail(EOPNOTSUPP, "the VFIO container has no VFIO_NOIOMMU_IOMMU (no-IOMMU mode off?)");

	snprintf(path, sizeof(path), "/dev/vfio/noiommu-%d", v->group);
	v->group_fd = open(path, O_RDWR | O_CLOEXEC);
	if (v->group_fd < 0)
		return dmatd_err(errno, "open %s (needs CAP_SYS_RAWIO)", path);
	if (ioctl(v->group_fd, VFIO_GROUP_GET_STATUS, &status))
		return dmatd_err(errno, "ioctl VFIO_GROUP_GET_STATUS %s", path);
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE))
		return dmatd_fail(EBUSY, "%s is not viable (a device of the group is bound to another driver)",
				  path);
	if (ioctl(v->group_fd, VFIO_GROUP_SET_CONTAINER, &v->container_fd))
		return dmatd_err(errno, "ioctl VFIO_GROUP_SET_CONTAINER %s", path);
	if (ioctl(v->container_fd, VFIO_SET_IOMMU, VFIO_NOIOMMU_IOMMU))
		return dmatd_err(errno, "ioctl VFIO_SET_IOMMU VFIO_NOIOMMU_IOMMU");

	v->device_fd = ioctl(v->group_fd, VFIO_GROUP_GET_DEVICE_FD, v->bdf);
	if (v->device_fd < 0)
		return dmatd_err(errno, "ioctl VFIO_GROUP_GET_DEVICE_FD %s on %s",
				 v->bdf, path);
	return 0;
}

int dmatd_vfio_open(struct dmatd_vfio *v, const char *bdf, enum dmatd_vfio_mode mode)
{
	int ret;

	memset(v, 0, sizeof(*v));
	v->mode = mode;
	v->device_fd = -1;
	v->iommufd = -1;
	v->container_fd = -1;
	v->group_fd = -1;
	v->pagemap_fd = -1;
	snprintf(v->bdf, sizeof(v->bdf), "%s", bdf);

	ret = dmatd_pci_bind_vfio(bdf);
	if (!ret)
		ret = mode == DMATD_VFIO_CDEV ? open_cdev(v) : open_legacy(v);
	if (ret)
		dmatd_vfio_close(v);
	return ret;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void dmatd_vfio_close(struct dmatd_vfio *v)
{
	/* The device first: it holds the iommufd binding and the group. */
	close_fd(&v->device_fd);
	close_fd(&v->iommufd);
	close_fd(&v->group_fd);
	close_fd(&v->container_fd);
	close_fd(&v->pagemap_fd);
}

/* syslog(2) actions: read the whole ring, its size. */
#define KLOG_READ_ALL		3
#define KLOG_SIZE_BUFFER	10

const char *dmatd_vfio_container_backend(void)
{
	int size = klogctl(KLOG_SIZE_BUFFER, NULL, 0), n;
	const char *backend = NULL;
	char *log;

	if (size <= 0)
		return NULL;
	log = calloc(1, size + 1);
	if (!log)
		return NULL;
	n = klogctl(KLOG_READ_ALL, log, size);
	if (n >= 0)
		backend = strstr(log, "IOMMUFD is providing /dev/vfio/vfio") ?
			  "iommufd" : "vfio";
	free(log);
	return backend;
}

int dmatd_vfio_region_info(struct dmatd_vfio *v, uint32_t index,
			   struct vfio_region_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	info->index = index;
	if (ioctl(v->device_fd, VFIO_DEVICE_GET_REGION_INFO, info))
		return dmatd_err(errno, "ioctl VFIO_DEVICE_GET_REGION_INFO index %u",
				 index);
	return 0;
}

int dmatd_vfio_map_bar(struct dmatd_vfio *v, uint32_t index, void **addr,
		       size_t *size)
{
	struct vfio_region_info info;
	void *p;
	int ret;

	ret = dmatd_vfio_region_info(v, index, &info);
	if (ret)
		return ret;
	if (!info.size)
		return dmatd_fail(ENODEV, "%s: BAR%u is not implemented", v->bdf,
				  index);
	if (!(info.flags & VFIO_REGION_INFO_FLAG_MMAP))
		return dmatd_fail(EOPNOTSUPP, "%s: BAR%u (0x%llx bytes) cannot be mmap()ed (smaller than a page?)",
				  v->bdf, index, (unsigned long long)info.size);
	p = mmap(NULL, info.size, PROT_READ | PROT_WRITE, MAP_SHARED,
		 v->device_fd, info.offset);
	if (p == MAP_FAILED)
		return dmatd_err(errno, "mmap %s BAR%u (0x%llx bytes)", v->bdf,
				 index, (unsigned long long)info.size);
	*addr = p;
	*size = info.size;
	return 0;
}

void dmatd_vfio_unmap_bar(void *addr, size_t size)
{
	if (addr)
		munmap(addr, size);
}

static int config_rw(struct dmatd_vfio *v, bool write, uint32_t off, void *val,
		     size_t size)
{
	struct vfio_region_info info;
	ssize_t n;
	int ret;

	ret = dmatd_vfio_region_info(v, VFIO_PCI_CONFIG_REGION_INDEX, &info);
	if (ret)
		return ret;
	if (write)
		n = pwrite(v->device_fd, val, size, info.offset + off);
	else
		n = pread(v->device_fd, val, size, info.offset + off);
	if (n != (ssize_t)size)
		return dmatd_err(n < 0 ? errno : EIO, "%s %zu bytes at config offset 0x%x of %s",
				 write ? "pwrite" : "pread", size, off, v->bdf);
	return 0;
}

int dmatd_vfio_config_read(struct dmatd_vfio *v, uint32_t off, void *val,
			   size_t size)
{
	return config_rw(v, false, off, val, size);
}

int dmatd_vfio_config_write(struct dmatd_vfio *v, uint32_t off, const void *val,
			    size_t size)
{
	return config_rw(v, true, off, (void *)val, size);
}

int dmatd_vfio_enable_dma(struct dmatd_vfio *v)
{
	uint16_t cmd;
	int ret;

	ret = dmatd_vfio_config_read(v, PCI_COMMAND, &cmd, sizeof(cmd));
	if (ret)
		return ret;
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	ret = dmatd_vfio_config_write(v, PCI_COMMAND, &cmd, sizeof(cmd));
	if (ret)
		return ret;
	ret = dmatd_vfio_config_read(v, PCI_COMMAND, &cmd, sizeof(cmd));
	if (ret)
		return ret;
	if (!(cmd & PCI_COMMAND_MASTER))
		return dmatd_fail(EIO, "%s: Bus Master Enable does not stick (command 0x%04x)",
				  v->bdf, cmd);
	return 0;
}

int dmatd_vfio_pagemap(struct dmatd_vfio *v)
{
	if (v->pagemap_fd < 0)
		v->pagemap_fd = dmatd_pagemap_open();
	return v->pagemap_fd;
}

int dmatd_dma_map(struct dmatd_vfio *v, struct dmatd_buf *b, struct dmatd_mapping *m,
		  const uint64_t *fixed_iova)
{
	int ret;

	memset(m, 0, sizeof(*m));
	m->buf = b;
	if (v->mode == DMATD_VFIO_LEGACY) {
		if (fixed_iova)
			return dmatd_fail(EINVAL, "the legacy path has no IOVA to fix");
		ret = dmatd_buf_lock(b);
		if (ret)
			return ret;
		m->iova = (uintptr_t)b->map;
		m->mapped = true;
		return 0;
	}

	if (fixed_iova)
		m->iova = *fixed_iova;
	if (b->memfd >= 0)
		ret = dmatd_ioas_map_file(v->iommufd, v->ioas_id, b->memfd,
					  b->file_off, b->map_len, &m->iova,
					  fixed_iova != NULL);
	else
		ret = dmatd_ioas_map(v->iommufd, v->ioas_id, b->map, b->map_len,
				     &m->iova, fixed_iova != NULL);
	if (ret)
		return ret;
	m->mapped = true;
	return 0;
}

int dmatd_dma_unmap(struct dmatd_vfio *v, struct dmatd_mapping *m)
{
	uint64_t unmapped = 0;
	int ret;

	if (!m->mapped)
		return 0;
	m->mapped = false;
	if (v->mode == DMATD_VFIO_LEGACY) {
		if (munlock(m->buf->map, m->buf->map_len))
			return dmatd_err(errno, "munlock %p+0x%zx", m->buf->map,
					 m->buf->map_len);
		m->buf->locked = false;
		return 0;
	}
	ret = dmatd_ioas_unmap(v->iommufd, v->ioas_id, m->iova, m->buf->map_len,
			       &unmapped);
	if (ret)
		return ret;
	if (unmapped != m->buf->map_len)
		return dmatd_fail(EPROTO, "IOMMU_IOAS_UNMAP iova 0x%" PRIx64 ": unmapped 0x%" PRIx64 " of 0x%zx bytes",
				  m->iova, unmapped, m->buf->map_len);
	return 0;
}

/* Legacy: one pagemap lookup per 4 KiB page, merged into runs. */
static int pagemap_runs(struct dmatd_vfio *v, struct dmatd_mapping *m,
			uint64_t off, uint64_t len, struct dmatd_run **runs,
			size_t *nr)
{
	uint64_t first = off & ~(DMATD_PAGE_SIZE - 1);
	size_t npages = (DMATD_ALIGN(off + len, DMATD_PAGE_SIZE) - first) /
			DMATD_PAGE_SIZE;
	struct dmatd_run *r = NULL;
	size_t i, n = 0, cap = 0;
	uint64_t *pa;
	int fd, ret;

	fd = dmatd_vfio_pagemap(v);
	if (fd < 0)
		return fd;
	pa = calloc(npages, sizeof(*pa));
	if (!pa)
		return dmatd_err(ENOMEM, "calloc %zu page addresses", npages);
	ret = dmatd_pagemap_pa(fd, m->buf->map + first, npages, pa);
	for (i = 0; !ret && i < npages; i++) {
		uint64_t s = i ? first + i * DMATD_PAGE_SIZE : off;
		uint64_t e = first + (i + 1) * DMATD_PAGE_SIZE;

		if (e > off + len)
			e = off + len;
		if (!pa[i]) {
			ret = dmatd_fail(EFAULT, "page at %p is not present",
					 m->buf->map + first + i * DMATD_PAGE_SIZE);
			break;
		}
		ret = dmatd_runs_add(&r, &n, &cap, m->iova + s,
				     pa[i] + (s & (DMATD_PAGE_SIZE - 1)), e - s,
				     true);
	}
	free(pa);
	if (ret) {
		free(r);
		return ret;
	}
	*runs = r;
	*nr = n;
	return 0;
}

int dmatd_dma_runs(struct dmatd_vfio *v, struct dmatd_mapping *m, uint64_t off,
		   uint64_t len, struct dmatd_run **runs, size_t *nr)
{
	if (!m->mapped)
		return dmatd_fail(EINVAL, "buffer at %p is not mapped for DMA",
				  m->buf ? (void *)m->buf->map : NULL);
	if (off + len > m->buf->map_len)
		return dmatd_fail(EINVAL, "range 0x%" PRIx64 "+0x%" PRIx64 " beyond the mapping (0x%zx)",
				  off, len, m->buf->map_len);
	if (v->mode == DMATD_VFIO_LEGACY)
		return pagemap_runs(v, m, off, len, runs, nr);
	return dmatd_get_pa_runs(v->iommufd, v->ioas_id, m->iova + off, len, runs,
				 nr);
}

int dmatd_vfio_irq_info(struct dmatd_vfio *v, uint32_t index,
			struct vfio_irq_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	info->index = index;
	if (ioctl(v->device_fd, VFIO_DEVICE_GET_IRQ_INFO, info))
		return dmatd_err(errno, "ioctl VFIO_DEVICE_GET_IRQ_INFO %s index %u",
				 v->bdf, index);
	return 0;
}

int dmatd_vfio_irq_set(struct dmatd_vfio *v, uint32_t index, uint32_t start,
		       uint32_t count, const int *fds)
{
	size_t argsz = sizeof(struct vfio_irq_set) + count * sizeof(int);
	struct vfio_irq_set *set;
	int ret = 0;

	set = calloc(1, argsz);
	if (!set)
		return dmatd_err(ENOMEM, "calloc vfio_irq_set for %u vectors",
				 count);
	set->argsz = argsz;
	set->index = index;
	set->start = start;
	set->count = count;
	set->flags = VFIO_IRQ_SET_ACTION_TRIGGER;
	if (count) {
		set->flags |= VFIO_IRQ_SET_DATA_EVENTFD;
		memcpy(set->data, fds, count * sizeof(int));
	} else {
		set->flags |= VFIO_IRQ_SET_DATA_NONE;
	}
	if (ioctl(v->device_fd, VFIO_DEVICE_SET_IRQS, set))
		ret = dmatd_err(errno, "ioctl VFIO_DEVICE_SET_IRQS %s index %u vectors %u..%u",
				v->bdf, index, start, start + count);
	free(set);
	return ret;
}

int dmatd_vfio_msix_enable(struct dmatd_vfio *v, uint32_t nvec, int *fds)
{
	struct vfio_irq_info info;
	uint32_t i;
	int ret;

	for (i = 0; i < nvec; i++)
		fds[i] = -1;
	ret = dmatd_vfio_irq_info(v, VFIO_PCI_MSIX_IRQ_INDEX, &info);
	if (ret)
		return ret;
	if (!(info.flags & VFIO_IRQ_INFO_EVENTFD) || info.count < nvec)
		return dmatd_fail(EOPNOTSUPP, "%s: MSI-X offers %u vectors (flags 0x%x), want %u with eventfds",
				  v->bdf, info.count, info.flags, nvec);
	for (i = 0; i < nvec; i++) {
		fds[i] = eventfd(0, EFD_CLOEXEC);
		if (fds[i] < 0) {
			ret = dmatd_err(errno, "eventfd for MSI-X vector %u", i);
			goto fail;
		}
	}
	ret = dmatd_vfio_irq_set(v, VFIO_PCI_MSIX_IRQ_INDEX, 0, nvec, fds);
	if (!ret)
		return 0;
fail:
	for (i = 0; i < nvec; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
	return ret;
}

int dmatd_vfio_msix_disable(struct dmatd_vfio *v, uint32_t nvec, int *fds)
{
	uint32_t i;
	int ret;

	ret = dmatd_vfio_irq_set(v, VFIO_PCI_MSIX_IRQ_INDEX, 0, 0, NULL);
	for (i = 0; i < nvec; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
	return ret;
}
