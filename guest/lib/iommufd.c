// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dtlib: iommufd IOAS calls used in no-IOMMU mode.
 *
 * Copyright (c) 2026 The dma-testdev authors
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <dtlib/iommufd.h>
#include <dtlib/log.h>

int dmatd_iommufd_open(void)
{
	int fd = open("/dev/iommu", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return dmatd_err(errno, "open /dev/iommu (is CONFIG_IOMMUFD set?)");
	return fd;
}

int dmatd_ioas_alloc(int iommufd, uint32_t *ioas_id)
{
	struct iommu_ioas_alloc cmd = { .size = sizeof(cmd) };

	if (ioctl(iommufd, IOMMU_IOAS_ALLOC, &cmd))
		return dmatd_err(errno, "ioctl IOMMU_IOAS_ALLOC");
	*ioas_id = cmd.out_ioas_id;
	return 0;
}

int dmatd_iommufd_destroy(int iommufd, uint32_t id)
{
	struct iommu_destroy cmd = { .size = sizeof(cmd), .id = id };

	if (ioctl(iommufd, IOMMU_DESTROY, &cmd))
		return dmatd_err(errno, "ioctl IOMMU_DESTROY %u", id);
	return 0;
}

#define MAP_RW	(IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE)

int dmatd_ioas_map(int iommufd, uint32_t ioas_id, void *va, uint64_t len,
		   uint64_t *iova, bool fixed)
{
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = MAP_RW | (fixed ? IOMMU_IOAS_MAP_FIXED_IOVA : 0),
		.ioas_id = ioas_id,
		.user_va = (uintptr_t)va,
		.length = len,
		.iova = fixed ? *iova : 0,
	};

	if (ioctl(iommufd, IOMMU_IOAS_MAP, &cmd)) {
		if (fixed)
			return dmatd_err(errno, "ioctl IOMMU_IOAS_MAP ioas %u va %p len 0x%" PRIx64 " at fixed iova 0x%" PRIx64,
					 ioas_id, va, len, *iova);
		return dmatd_err(errno, "ioctl IOMMU_IOAS_MAP ioas %u va %p len 0x%" PRIx64,
				 ioas_id, va, len);
	}
	*iova = cmd.iova;
	return 0;
}

int dmatd_ioas_map_file(int iommufd, uint32_t ioas_id, int fd, uint64_t start,
			uint64_t len, uint64_t *iova, bool fixed)
{
	struct iommu_ioas_map_file cmd = {
		.size = sizeof(cmd),
		.flags = MAP_RW | (fixed ? IOMMU_IOAS_MAP_FIXED_IOVA : 0),
		.ioas_id = ioas_id,
		.fd = fd,
		.start = start,
		.length = len,
		.iova = fixed ? *iova : 0,
	};

	if (ioctl(iommufd, IOMMU_IOAS_MAP_FILE, &cmd))
		return dmatd_err(errno, "ioctl IOMMU_IOAS_MAP_FILE ioas %u fd %d start 0x%" PRIx64 " len 0x%" PRIx64 "%s",
				 ioas_id, fd, start, len,
				 fixed ? " at a fixed iova" : "");
	*iova = cmd.iova;
	return 0;
}

int dmatd_ioas_copy(int iommufd, uint32_t dst, uint32_t src,
		    uint64_t src_iova, uint64_t len, uint64_t *dst_iova,
		    bool fixed)
{
	struct iommu_ioas_copy cmd = {
		.size = sizeof(cmd),
		.flags = MAP_RW | (fixed ? IOMMU_IOAS_MAP_FIXED_IOVA : 0),
		.dst_ioas_id = dst,
		.src_ioas_id = src,
		.length = len,
		.dst_iova = fixed ? *dst_iova : 0,
		.src_iova = src_iova,
	};

	if (ioctl(iommufd, IOMMU_IOAS_COPY, &cmd))
		return dmatd_err(errno, "ioctl IOMMU_IOAS_COPY ioas %u iova 0x%" PRIx64 " len 0x%" PRIx64 " to ioas %u",
				 src, src_iova, len, dst);
	*dst_iova = cmd.dst_iova;
	return 0;
}

int dmatd_ioas_unmap(int iommufd, uint32_t ioas_id, uint64_t iova, uint64_t len,
		     uint64_t *unmapped)
{
	struct iommu_ioas_unmap cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
		.iova = iova,
		.length = len,
	};

	if (ioctl(iommufd, IOMMU_IOAS_UNMAP, &cmd))
		return dmatd_err(errno, "ioctl IOMMU_IOAS_UNMAP ioas %u iova 0x%" PRIx64 " len 0x%" PRIx64,
				 ioas_id, iova, len);
	if (unmapped)
		*unmapped = cmd.length;
	return 0;
}

int __dt_get_pa(int iommufd, struct iommu_ioas_noiommu_get_pa *cmd)
{
	return ioctl(iommufd, IOMMU_IOAS_NOIOMMU_GET_PA, cmd) ? -errno : 0;
}

int dmatd_get_pa(int iommufd, uint32_t ioas_id, uint64_t iova, uint64_t len,
		 uint64_t *pa, uint64_t *run_len)
{
	struct iommu_ioas_noiommu_get_pa cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
		.iova = iova,
		.length = len,
	};
	int ret;

	ret = __dt_get_pa(iommufd, &cmd);
	if (ret)
		return dmatd_err(-ret, "ioctl IOMMU_IOAS_NOIOMMU_GET_PA ioas %u iova 0x%" PRIx64 " length 0x%" PRIx64,
				 ioas_id, iova, len);
	/* Guard the caller's loop against a kernel that makes no progress. */
	if (!cmd.length || cmd.length > len)
		return dmatd_fail(EPROTO, "IOMMU_IOAS_NOIOMMU_GET_PA iova 0x%" PRIx64 " length 0x%" PRIx64 " returned length 0x%" PRIx64,
				  iova, len, (uint64_t)cmd.length);
	*pa = cmd.out_phys;
	*run_len = cmd.length;
	return 0;
}

int dmatd_runs_add(struct dmatd_run **runs, size_t *nr, size_t *cap,
		   uint64_t iova, uint64_t pa, uint64_t len, bool merge)
{
	struct dmatd_run *last = *nr ? &(*runs)[*nr - 1] : NULL;

	if (merge && last && last->iova + last->len == iova &&
	    last->pa + last->len == pa) {
		last->len += len;
		return 0;
	}
	if (*nr == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct dmatd_run *n = realloc(*runs, ncap * sizeof(*n));

		if (!n)
			return dmatd_err(ENOMEM, "realloc %zu runs", ncap);
		*runs = n;
		*cap = ncap;
	}
	(*runs)[(*nr)++] = (struct dmatd_run){ .iova = iova, .pa = pa,
					    .len = len };
	return 0;
}

int dmatd_get_pa_runs(int iommufd, uint32_t ioas_id, uint64_t iova,
		      uint64_t len, struct dmatd_run **runs, size_t *nr)
{
	struct dmatd_run *r = NULL;
	size_t n = 0, cap = 0;
	uint64_t done = 0;
	int ret = 0;

	/*
	 * One call returns one physically contiguous run; the runs are
	 * reported as the kernel returns them, unmerged, so that a wrong
	 * split shows.
	 */
	while (done < len) {
		uint64_t pa, run_len;

		ret = dmatd_get_pa(iommufd, ioas_id, iova + done, len - done, &pa,
				   &run_len);
		if (ret)
			break;
		ret = dmatd_runs_add(&r, &n, &cap, iova + done, pa, run_len,
				     false);
		if (ret)
			break;
		done += run_len;
	}
	if (ret) {
		free(r);
		return ret;
	}
	*runs = r;
	*nr = n;
	return 0;
}
