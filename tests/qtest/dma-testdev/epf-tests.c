/*
 * dma-testdev device qtests: the pci-epf-test personality.
 *
 * Copyright (c) 2026 The dma-testdev authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "dma-testdev/framework.h"

/*
 * The pci-epf-test personality (q35 and pc): the register protocol of
 * Linux's PCI endpoint test function, checked the way its host driver
 * uses it.
 */

/* Linux's crc32_le(~0, buf, len): reflected, seed ~0, no final xor. */
static uint32_t dmatd_crc32_le(const uint8_t *buf, size_t len)
{
    uint32_t crc = ~0u;
    size_t i;
    int b;

    for (i = 0; i < len; i++) {
        crc ^= buf[i];
        for (b = 0; b < 8; b++) {
            crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
        }
    }
    return crc;
}

static void dmatd_epf_wr(DmatdDev *d, uint32_t reg, uint32_t val)
{
    qpci_io_writel(d->dev, d->bar, reg, val);
}

static uint32_t dmatd_epf_rd(DmatdDev *d, uint32_t reg)
{
    return qpci_io_readl(d->dev, d->bar, reg);
}

/* Issue @cmd and wait for the bottom half to have taken it. */
static void dmatd_epf_run(DmatdDev *d, uint32_t cmd)
{
    int i;

    dmatd_epf_wr(d, DMATD_EPF_COMMAND, cmd);
    for (i = 0; i < 1000 && dmatd_epf_rd(d, DMATD_EPF_COMMAND); i++) {
        g_usleep(1000);
    }
    g_assert_cmphex(dmatd_epf_rd(d, DMATD_EPF_COMMAND), ==, 0);
}

/* ...and return STATUS (which, like the host's handler, ends INTx). */
static uint32_t dmatd_epf_cmd(DmatdDev *d, uint32_t cmd)
{
    dmatd_epf_run(d, cmd);
    return dmatd_epf_rd(d, DMATD_EPF_STATUS);
}

static void test_epf(const void *data)
{
    DmatdDev *d = dmatd_start(data, ",personality=epf-test", "");
    static const uint64_t sizes[] = { 4096, 4096, 8192, 16384, 131072,
                                      1048576 };
    uint32_t len = 1025, seq;
    uint64_t src = guest_alloc(&d->alloc, len + 8) + 3;
    uint64_t dst = guest_alloc(&d->alloc, len + 8) + 5;
    uint64_t msg = guest_alloc(&d->alloc, 4);
    g_autofree uint8_t *buf = g_malloc(len);
    g_autofree uint8_t *exp = g_malloc(len);
    g_autoptr(GArray) log = NULL;
    QPCIBar bar;
    uint64_t size;
    int i;

    /* BAR0: registers; BARs 1-5: memory the host's BAR tests fill. */
    g_assert_cmpuint(d->bar_size, ==, sizes[0]);
    dmatd_epf_wr(d, DMATD_EPF_MAGIC, 0xa0a0a0a0);
    g_assert_cmphex(dmatd_epf_rd(d, DMATD_EPF_MAGIC), ==, 0xa0a0a0a0);
    g_assert_cmphex(dmatd_epf_rd(d, DMATD_EPF_CAPS), ==, 0x0f);
    g_assert_cmphex(dmatd_epf_rd(d, DMATD_EPF_DB_BAR), ==, 0xffffffff);
    if (!d->rp) {
        for (i = 1; i < 6; i++) {
            bar = qpci_iomap(d->dev, i, &size);
            g_assert_cmpuint(size, ==, sizes[i]);
            qpci_io_writel(d->dev, bar, size - 4, 0xa0000000 | i);
            qpci_io_writel(d->dev, bar, 0, 0xa1000000 | i);
            g_assert_cmphex(qpci_io_readl(d->dev, bar, size - 4), ==,
                            0xa0000000 | i);
            g_assert_cmphex(qpci_io_readl(d->dev, bar, 0), ==,
                            0xa1000000 | i);
        }
    }

    /* Endpoint WRITE: the device fills DST and reports the CRC. */
    dmatd_epf_wr(d, DMATD_EPF_IRQ_TYPE, DMATD_EPF_IRQ_INTX);
    dmatd_epf_wr(d, DMATD_EPF_DST_LO, dst);
    dmatd_epf_wr(d, DMATD_EPF_DST_HI, dst >> 32);
    dmatd_epf_wr(d, DMATD_EPF_SIZE, len);
    dmatd_epf_wr(d, DMATD_EPF_FLAGS, DMATD_EPF_FLAG_USE_DMA);
    dmatd_epf_run(d, DMATD_EPF_CMD_WRITE);
    /* INTx is held until STATUS is read, as the host's handler does. */
    g_assert_true(dmatd_intx_level(d));
    g_assert_cmphex(dmatd_epf_rd(d, DMATD_EPF_STATUS), ==,
                    DMATD_EPF_ST_WRITE_OK | DMATD_EPF_ST_IRQ_RAISED);
    g_assert_false(dmatd_intx_level(d));
    log = dmatd_log_get(d, 0);
    g_assert_cmpuint(log->len, ==, 1);
    dmatd_check_log(&g_array_index(log, DmatdLogEntry, 0), "epf-write", "dst",
                    0, "write", dst, len, len, "ok");
    seq = g_array_index(log, DmatdLogEntry, 0).cmd;
    qtest_bufread(d->qts, dst, buf, len);
    dmatd_pattern(exp, seq, 0, len);
    g_assert_true(memcmp(buf, exp, len) == 0);
    g_assert_cmphex(dmatd_epf_rd(d, DMATD_EPF_CHECKSUM), ==,
                    dmatd_crc32_le(buf, len));


    /* Endpoint READ: the device checks the host's CRC. */
    for (i = 0; i < len; i++) {
        buf[i] = i * 7 + 1;
    }
    qtest_bufwrite(d->qts, src, buf, len);
    dmatd_epf_wr(d, DMATD_EPF_SRC_LO, src);
    dmatd_epf_wr(d, DMATD_EPF_SRC_HI, src >> 32);
    dmatd_epf_wr(d, DMATD_EPF_CHECKSUM, dmatd_crc32_le(buf, len));
    g_assert_cmphex(dmatd_epf_cmd(d, DMATD_EPF_CMD_READ), ==,
                    DMATD_EPF_ST_READ_OK | DMATD_EPF_ST_IRQ_RAISED);
    dmatd_epf_wr(d, DMATD_EPF_CHECKSUM, dmatd_crc32_le(buf, len) ^ 1);
    g_assert_cmphex(dmatd_epf_cmd(d, DMATD_EPF_CMD_READ), ==,
                    DMATD_EPF_ST_READ_FAIL | DMATD_EPF_ST_IRQ_RAISED);

    /* COPY, signalled by MSI vector 1 (IRQ_NUMBER is 1-based). */
    dmatd_msi_enable(d, msg, 1);
    qtest_writel(d->qts, msg, 0);
    dmatd_epf_wr(d, DMATD_EPF_IRQ_TYPE, DMATD_EPF_IRQ_MSI);
    dmatd_epf_wr(d, DMATD_EPF_IRQ_NUMBER, 1);
    g_assert_cmphex(dmatd_epf_cmd(d, DMATD_EPF_CMD_COPY), ==,
                    DMATD_EPF_ST_COPY_OK | DMATD_EPF_ST_IRQ_RAISED);
    g_assert_cmphex(qtest_readl(d->qts, msg), ==, DMATD_MSI_DATA);
    qtest_bufread(d->qts, dst, exp, len);
    g_assert_true(memcmp(buf, exp, len) == 0);

    /* A vector the host did not enable: status, but no message. */
    qtest_writel(d->qts, msg, 0);
    dmatd_epf_wr(d, DMATD_EPF_IRQ_NUMBER, 2);
    g_assert_cmphex(dmatd_epf_cmd(d, DMATD_EPF_CMD_RAISE_MSI), ==,
                    DMATD_EPF_ST_IRQ_RAISED);
    g_assert_cmphex(qtest_readl(d->qts, msg), ==, 0);

    /* An unassigned source fails, says which side, and is logged. */
    dmatd_epf_wr(d, DMATD_EPF_IRQ_NUMBER, 1);
    dmatd_epf_wr(d, DMATD_EPF_SRC_LO, 0);
    dmatd_epf_wr(d, DMATD_EPF_SRC_HI, DMATD_UNASSIGNED >> 32);
    g_assert_cmphex(dmatd_epf_cmd(d, DMATD_EPF_CMD_READ), ==,
                    DMATD_EPF_ST_READ_FAIL | DMATD_EPF_ST_SRC_INVALID |
                    DMATD_EPF_ST_IRQ_RAISED);
    g_array_unref(log);
    log = dmatd_log_get(d, 0);
    dmatd_check_log(&g_array_index(log, DmatdLogEntry, log->len - 1),
                    "epf-read", "src", 0, "read", DMATD_UNASSIGNED, len, 0,
                    "decode-error");

    /* Two command bits at once: ignored, no status, no interrupt. */
    qtest_writel(d->qts, msg, 0);
    g_assert_cmphex(dmatd_epf_cmd(d, DMATD_EPF_CMD_READ | DMATD_EPF_CMD_WRITE),
                    ==, 0);
    g_assert_cmphex(qtest_readl(d->qts, msg), ==, 0);
    dmatd_stop(d);
}

/*
 * Migration between transfers: the state a finished transfer leaves
 * loads (it once did not: found by the dma-testdev-state fuzz target),
 * the registers arrive, and the next transfer checks the first's data.
 */
static void test_epf_migrate(const void *data)
{
    DmatdDev *d = dmatd_start(data, ",personality=epf-test", "-m 128M");
    uint32_t len = 3 * DMATD_PAGE + 7, crc;
    uint64_t buf = guest_alloc(&d->alloc, len);

    dmatd_epf_wr(d, DMATD_EPF_IRQ_TYPE, DMATD_EPF_IRQ_INTX);
    dmatd_epf_wr(d, DMATD_EPF_DST_LO, buf);
    dmatd_epf_wr(d, DMATD_EPF_DST_HI, buf >> 32);
    dmatd_epf_wr(d, DMATD_EPF_SIZE, len);
    g_assert_cmphex(dmatd_epf_cmd(d, DMATD_EPF_CMD_WRITE), ==,
                    DMATD_EPF_ST_WRITE_OK | DMATD_EPF_ST_IRQ_RAISED);
    crc = dmatd_epf_rd(d, DMATD_EPF_CHECKSUM);

    dmatd_migrate(d);

    g_assert_cmphex(dmatd_epf_rd(d, DMATD_EPF_STATUS), ==,
                    DMATD_EPF_ST_WRITE_OK | DMATD_EPF_ST_IRQ_RAISED);
    g_assert_cmphex(dmatd_epf_rd(d, DMATD_EPF_CHECKSUM), ==, crc);
    g_assert_cmphex(dmatd_epf_rd(d, DMATD_EPF_SIZE), ==, len);
    /* READ back what WRITE put there, against WRITE's checksum. */
    dmatd_epf_wr(d, DMATD_EPF_SRC_LO, buf);
    dmatd_epf_wr(d, DMATD_EPF_SRC_HI, buf >> 32);
    g_assert_cmphex(dmatd_epf_cmd(d, DMATD_EPF_CMD_READ), ==,
                    DMATD_EPF_ST_READ_OK | DMATD_EPF_ST_IRQ_RAISED);
    dmatd_stop(d);
}

void dmatd_add_epf_tests(void)
{
    dmatd_add("epf-test", test_epf, true);
    dmatd_add("epf-migrate", test_epf_migrate, true);
}
