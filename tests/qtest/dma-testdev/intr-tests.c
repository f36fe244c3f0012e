/*
 * dma-testdev device qtests: interrupts (INTx, MSI and MSI-X).
 *
 * Copyright (c) 2026 The dma-testdev authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "dma-testdev/framework.h"

/*
 * Interrupts (q35 and pc)
 *
 * MSI and MSI-X messages are memory writes: the tests point them at guest
 * RAM and watch the data word arrive, so each vector is told apart by its
 * address or data.  INTx is seen in PCI_STATUS_INTERRUPT, which mirrors
 * the function's INTx level.
 */

static void test_intr_intx(const void *data)
{
    DmatdDev *d = dmatd_start(data, "", "");
    uint64_t list = dmatd_quick_list(d);
    uint32_t info = dmatd_rd(d, DMATD_REG_INTR_INFO);

    g_assert_cmpuint(qpci_config_readb(d->dev, PCI_INTERRUPT_PIN), ==, 1);
    g_assert_cmpuint(DMATD_INTR_INFO_MSI(info), ==, 8);
    g_assert_cmpuint(DMATD_INTR_INFO_MSIX(info), ==, 8);
    g_assert_cmpuint(DMATD_INTR_INFO_MODE(info), ==, DMATD_INTR_MODE_INTX);

    /* Latched but not enabled: no interrupt. */
    dmatd_quick_cmd(d, list);
    DMATD_CHECK_REG(d, DMATD_REG_INTR_STATUS, DMATD_INTR_CMD_DONE);
    g_assert_false(dmatd_intx_level(d));

    /* Enabling a latched cause asserts the level at once. */
    dmatd_wr(d, DMATD_REG_INTR_ENABLE, DMATD_INTR_CMD_DONE);
    g_assert_true(dmatd_intx_level(d));
    dmatd_wr(d, DMATD_REG_INTR_STATUS, DMATD_INTR_CMD_DONE);
    DMATD_CHECK_REG(d, DMATD_REG_INTR_STATUS, 0);
    g_assert_false(dmatd_intx_level(d));

    /* A new command asserts it again; a wrong acknowledge does not clear. */
    dmatd_quick_cmd(d, list);
    g_assert_true(dmatd_intx_level(d));
    dmatd_wr(d, DMATD_REG_INTR_STATUS, DMATD_INTR_QUEUE_CMPL);
    g_assert_true(dmatd_intx_level(d));
    dmatd_wr(d, DMATD_REG_INTR_ENABLE, 0);
    g_assert_false(dmatd_intx_level(d));
    dmatd_wr(d, DMATD_REG_INTR_ENABLE, DMATD_INTR_CMD_DONE);
    g_assert_true(dmatd_intx_level(d));
    dmatd_wr(d, DMATD_REG_INTR_STATUS, DMATD_INTR_CMD_DONE);
    g_assert_false(dmatd_intx_level(d));
    dmatd_stop(d);
}

static void dmatd_msi_mask(DmatdDev *d, uint32_t mask)
{
    uint8_t cap = dmatd_find_cap(d->dev, PCI_CAP_ID_MSI);

    qpci_config_writel(d->dev, cap + PCI_MSI_MASK_64, mask);
}

static uint32_t dmatd_msi_pending(DmatdDev *d)
{
    uint8_t cap = dmatd_find_cap(d->dev, PCI_CAP_ID_MSI);

    return qpci_config_readl(d->dev, cap + PCI_MSI_PENDING_64);
}

static void test_intr_msi(const void *data)
{
    DmatdDev *d = dmatd_start(data, "", "");
    uint64_t list = dmatd_quick_list(d);
    uint64_t msg = guest_alloc(&d->alloc, 4);
    unsigned v;

    dmatd_msi_enable(d, msg, 8);
    g_assert_cmpuint(DMATD_INTR_INFO_MODE(dmatd_rd(d, DMATD_REG_INTR_INFO)), ==,
                     DMATD_INTR_MODE_MSI);
    dmatd_wr(d, DMATD_REG_INTR_ENABLE, DMATD_INTR_CMD_DONE);

    /* Every vector delivers its own data word; INTx stays quiet. */
    for (v = 0; v < 8; v++) {
        qtest_writel(d->qts, msg, 0);
        dmatd_wr(d, DMATD_REG_INTR_VECTOR, v);
        dmatd_quick_cmd(d, list);
        g_assert_cmphex(qtest_readl(d->qts, msg), ==, DMATD_MSI_DATA | v);
        g_assert_false(dmatd_intx_level(d));
    }
    DMATD_CHECK_REG(d, DMATD_REG_INTR_STATUS, DMATD_INTR_CMD_DONE);

    /* A masked vector becomes pending and is delivered on unmask. */
    qtest_writel(d->qts, msg, 0);
    dmatd_msi_mask(d, 1u << 5);
    dmatd_wr(d, DMATD_REG_INTR_VECTOR, 5);
    dmatd_quick_cmd(d, list);
    g_assert_cmphex(qtest_readl(d->qts, msg), ==, 0);
    g_assert_cmphex(dmatd_msi_pending(d), ==, 1u << 5);
    dmatd_msi_mask(d, 0);
    g_assert_cmphex(qtest_readl(d->qts, msg), ==, DMATD_MSI_DATA | 5);
    g_assert_cmphex(dmatd_msi_pending(d), ==, 0);

    /* Only 2 vectors granted: vector 5 falls back to 0, and says so. */
    dmatd_msi_enable(d, msg, 2);
    qtest_writel(d->qts, msg, 0);
    dmatd_wr(d, DMATD_REG_INTR_STATUS, DMATD_INTR_STATUS_MASK);
    dmatd_quick_cmd(d, list);
    g_assert_cmphex(qtest_readl(d->qts, msg), ==, DMATD_MSI_DATA);
    DMATD_CHECK_REG(d, DMATD_REG_INTR_STATUS,
                    DMATD_INTR_CMD_DONE | DMATD_INTR_VECTOR_FALLBACK);
    dmatd_stop(d);
}

/* MSI-X through BAR1, with the tests' own view of the table. */
static uint32_t dmatd_msix_pba_off(DmatdDev *d)
{
    uint32_t pba = qpci_config_readl(d->dev, dmatd_msix_cap(d) + PCI_MSIX_PBA);

    g_assert_cmpuint(pba & PCI_MSIX_FLAGS_BIRMASK, ==, 1);
    return pba & ~PCI_MSIX_FLAGS_BIRMASK;
}

static void dmatd_msix_enable_checked(DmatdDev *d)
{
    uint8_t cap = dmatd_msix_cap(d);

    g_assert_cmpuint((qpci_config_readw(d->dev, cap + PCI_MSIX_FLAGS) &
                      PCI_MSIX_FLAGS_QSIZE) + 1, ==, 8);
    dmatd_msix_enable(d);
}

static void test_intr_msix(const void *data)
{
    DmatdDev *d = dmatd_start(data, "", "");
    uint64_t list = dmatd_quick_list(d);
    uint64_t msg = guest_alloc(&d->alloc, 8 * 4);
    uint32_t pba = dmatd_msix_pba_off(d);
    unsigned v, w;

    /* MSI is on as well: MSI-X takes precedence. */
    dmatd_msi_enable(d, msg, 8);
    for (v = 0; v < 8; v++) {
        dmatd_msix_vector(d, v, msg + v * 4, 0xc0de0000 | v, false);
    }
    dmatd_msix_enable_checked(d);
    g_assert_cmpuint(DMATD_INTR_INFO_MODE(dmatd_rd(d, DMATD_REG_INTR_INFO)), ==,
                     DMATD_INTR_MODE_MSIX);
    dmatd_wr(d, DMATD_REG_INTR_ENABLE, DMATD_INTR_CMD_DONE);

    for (v = 0; v < 8; v++) {
        qtest_memset(d->qts, msg, 0, 8 * 4);
        dmatd_wr(d, DMATD_REG_INTR_VECTOR, v);
        dmatd_quick_cmd(d, list);
        for (w = 0; w < 8; w++) {
            g_assert_cmphex(qtest_readl(d->qts, msg + w * 4), ==,
                            w == v ? 0xc0de0000 | v : 0);
        }
        g_assert_false(dmatd_intx_level(d));
    }

    /* A masked vector sets its pending bit and fires on unmask. */
    qtest_memset(d->qts, msg, 0, 8 * 4);
    dmatd_msix_vector(d, 3, msg + 3 * 4, 0xc0de0003, true);
    dmatd_wr(d, DMATD_REG_INTR_VECTOR, 3);
    dmatd_quick_cmd(d, list);
    g_assert_cmphex(qtest_readl(d->qts, msg + 3 * 4), ==, 0);
    g_assert_cmphex(qpci_io_readl(d->dev, d->msix_bar, pba), ==, 1u << 3);
    dmatd_msix_vector(d, 3, msg + 3 * 4, 0xc0de0003, false);
    g_assert_cmphex(qtest_readl(d->qts, msg + 3 * 4), ==, 0xc0de0003);
    g_assert_cmphex(qpci_io_readl(d->dev, d->msix_bar, pba), ==, 0);

    /* A vector past the table falls back to vector 0. */
    qtest_memset(d->qts, msg, 0, 8 * 4);
    dmatd_wr(d, DMATD_REG_INTR_VECTOR, 20);
    dmatd_quick_cmd(d, list);
    g_assert_cmphex(qtest_readl(d->qts, msg), ==, 0xc0de0000);
    g_assert_true(dmatd_rd(d, DMATD_REG_INTR_STATUS) &
                  DMATD_INTR_VECTOR_FALLBACK);
    dmatd_stop(d);
}

void dmatd_add_intr_tests(void)
{
    dmatd_add("intr/intx", test_intr_intx, true);
    dmatd_add("intr/msi", test_intr_msi, true);
    dmatd_add("intr/msix", test_intr_msix, true);
}
