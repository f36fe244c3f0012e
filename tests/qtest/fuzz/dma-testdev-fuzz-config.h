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
 */
    {
        .name = "dma-testdev",
        .args = "-machine q35 -nodefaults -device dma-testdev",
        .objects = "dma-testdev*",
    },
