/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dma-testdev's generic-fuzz configuration: fuzz target
 * generic-fuzz-dma-testdev.  scripts/overlay-qemu.sh inserts this entry
 * (without this comment) at the top of predefined_configs[] in QEMU's
 * tests/qtest/fuzz/generic_fuzz_configs.h; scripts/fuzz.sh runs it.
 *
 * .args: the machine; generic-fuzz adds -display none, accel=qtest, -m 512M.
 * .objects: space-separated globs, matched case-insensitively against QOM
 * type names (a matching PCI device has its BARs mapped, its config space
 * and every MemoryRegion below it fuzzed) and against MemoryRegion names
 * (non-RAM regions only).  "dma-testdev*" matches the device's type and
 * its regions "dma-testdev-mmio" and any later "dma-testdev-*" BAR.
 * The native personality runs with a step size and a latency, so that
 * queue commands stay in flight across inputs' MMIO accesses and clock
 * steps; generic-fuzz-dma-testdev-epf covers personality=epf-test.
 */
    {
        .name = "dma-testdev",
        .args = "-machine q35 -nodefaults "
                "-device dma-testdev,latency-ns=1000,step-size=4096",
        .objects = "dma-testdev*",
    },
    {
        .name = "dma-testdev-epf",
        .args = "-machine q35 -nodefaults "
                "-device dma-testdev,personality=epf-test",
        .objects = "dma-testdev*",
    },
