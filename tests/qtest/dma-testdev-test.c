/*
 * QTest testcase for dma-testdev, the DMA reference PCI device
 *
 * Drives the device through its BAR0 registers the way a guest driver
 * would: segment lists are built in guest memory, a command is started and
 * its result registers, the guest memory it touched (and the guard bytes
 * around it) and the device's DMA log (QOM property "dma-log") are checked
 * against values the test computes on its own from the contract in
 * include/hw/misc/dma-testdev.h.  The whole suite runs on q35, where the
 * device is a PCI Express endpoint behind a pcie-root-port, and a subset
 * runs on pc, where it is a conventional PCI device on bus 0.
 *
 * The tests live in tests/qtest/dma-testdev/, one file per concern, on the
 * helpers of dma-testdev/framework.h; this is only their main.
 *
 * Copyright (c) 2026 The dma-testdev authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "dma-testdev/framework.h"

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    dmatd_add_data_tests();
    dmatd_add_checksum_tests();
    dmatd_add_err_tests();
    dmatd_add_big_tests();
    dmatd_add_intr_tests();
    dmatd_add_queue_tests();
    dmatd_add_reset_tests();
    dmatd_add_migration_tests();
    dmatd_add_bad_input_tests();
    dmatd_add_epf_tests();

    return g_test_run();
}
