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
 * steps, and with at most 1024 segments and 16 MiB per command: each
 * descriptor the device reads is one DMA fill of generic-fuzz, whose
 * cost grows with the square of the fills made during one of its
 * commands, so a list of 65536 (the default) takes minutes and ends a
 * campaign as a timeout.
 * generic-fuzz-dma-testdev-epf covers personality=epf-test.
 *
 * "mch" (q35's host bridge, 00:00.0) makes its config space fuzzable
 * too, second in the list of PCI devices (a config op whose device byte
 * is odd), so that an input can enable ECAM (PCIEXBAR, config offset
 * 0x60, bit 0; 0xb0000001 maps it at 0xb0000000) and the device's DMA
 * can then reach config space, its own included.  Nothing enables ECAM
 * otherwise: generic-fuzz runs no firmware, and every input starts
 * from a reset.  The MCH has no BARs and, unless an input turns on
 * SMRAM features, adds no MMIO region, so MMIO region indexes stay
 * those of the device (tests/qtest/fuzz/dma-testdev-seeds.py).
 */
    {
        .name = "dma-testdev",
        .args = "-machine q35 -nodefaults "
                "-device dma-testdev,latency-ns=1000,step-size=4096,"
                "max-segments=1024,max-transfer=16777216",
        .objects = "dma-testdev* mch",
    },
    {
        .name = "dma-testdev-epf",
        .args = "-machine q35 -nodefaults "
                "-device dma-testdev,personality=epf-test",
        .objects = "dma-testdev* mch",
    },
