#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# One seed per function, each with its docstring, makes a long file.
# pylint: disable=too-many-lines
# The file name, a script's, has dashes.
# pylint: disable=invalid-name
"""Seed corpus and libFuzzer dictionary for dma-testdev's generic-fuzz.

QEMU's generic-fuzz (tests/qtest/fuzz/generic_fuzz.c) reads an input as
commands split by the separator "FUZZ".  The first byte of a command,
modulo 10, is the operation; the rest are its operands, a little-endian
C struct with natural alignment (padding bytes are ignored):

  0 in, 1 out          port I/O (dma-testdev has no I/O BAR)
  2 read   {u8 size, u8 region, pad[2], u32 offset}
  3 write  {u8 size, u8 region, pad[2], u32 offset, u64 value}
           size % 4: 1, 2, 4, 8 bytes.  region: the index, in address
           order, of a fuzzable MemoryRegion mapped in system memory;
           offset: modulo its size
  4 pci read  {u8 size, u8 device, u8 offset}
  5 pci write {u8 size, u8 device, u8 offset, pad, u32 value}
           size % 3: 1, 2, 4 bytes; device: index (modulo their number)
           of the fuzzable PCI devices, through ports 0xcf8/0xcfc
  6 disable the PCI ops for the rest of the input
  7 add a DMA pattern {u8 index, u8 stride, data[>= 1]}
  8 clear the DMA patterns
  9 clock step: advance the virtual clock to the next timer deadline

Guest RAM has no write op.  Instead, whenever the device reads RAM (a
pci_dma_read, or any pci_dma_map, even one for writing) generic-fuzz
first fills the range with the next DMA pattern, in turn, repeating the
pattern's data from its start (with byte `index` of every repetition
increased by `stride` more each time).  A range already filled since the
last command is not filled again and does not advance the turn; with no
pattern, RAM keeps what it holds.  The seeds below put segment lists,
queue entries and data in guest RAM this way: they clear the patterns,
add exactly as many as the command makes fills, in the order the device
reads, and so know what each read finds.

Before each input generic-fuzz resets the machine and maps the BARs of
the fuzzable PCI devices from 0xe0000000 up, in BAR order, with memory
and bus-master decoding on.  The targets (tests/qtest/fuzz/
dma-testdev-fuzz-config.h) fuzz dma-testdev (00:01.0) and q35's MCH
(00:00.0, PCI device 1, for ECAM), so the MMIO regions are:

  generic-fuzz-dma-testdev      0 registers (BAR0, 0xe0000000),
                                1 MSI-X table, 2 PBA (BAR1, 0xe0001000)
  generic-fuzz-dma-testdev-epf  0 registers, 1 MSI-X table, 2 PBA (all
                                in BAR0, 0xe0000000); BARs 1..5 are RAM
                                (0xe0001000, 0xe0002000, 0xe0004000,
                                0xe0020000, 0xe0100000), not fuzzed
                                but DMA targets

All other unassigned space is backed by generic-fuzz's sparse memory, so
DMA there succeeds (it is MMIO to the device: the bounce path).

Register offsets and values come from include/hw/misc/dma-testdev.h,
hw/misc/dma-testdev-epf.c and hw/misc/dma-testdev-internal.h, read at
run time: a name that disappears from them stops this script.

Usage: dma-testdev-seeds.py [--target T] [--max-len N] DIR
       dma-testdev-seeds.py --dict FILE
       dma-testdev-seeds.py --list
"""
# pylint: enable=invalid-name

import argparse
import os
import struct
import sys
import zlib

from dmatd_contract import ROOT, Consts

TARGET_NATIVE = "generic-fuzz-dma-testdev"
TARGET_EPF = "generic-fuzz-dma-testdev-epf"

SEPARATOR = b"FUZZ"
(OP_IN, OP_OUT, OP_READ, OP_WRITE, OP_PCI_READ, OP_PCI_WRITE, OP_DISABLE_PCI,
 OP_ADD_DMA_PATTERN, OP_CLEAR_DMA_PATTERNS, OP_CLOCK_STEP) = range(10)
MMIO_SIZE = {1: 0, 2: 1, 4: 2, 8: 3}
PCI_SIZE = {1: 0, 2: 1, 4: 2}
# Shortest operand block of each operation (generic-fuzz ignores a command
# with fewer bytes).
MIN_OPERANDS = {OP_READ: 8, OP_WRITE: 16, OP_PCI_READ: 3, OP_PCI_WRITE: 8,
                OP_ADD_DMA_PATTERN: 3}

# MMIO regions (see above) and fuzzable PCI devices.
REGION_REGS, REGION_MSIX_TABLE, REGION_MSIX_PBA = 0, 1, 2
DEV_TESTDEV, DEV_MCH = 0, 1

# Machine facts (q35, -nodefaults, the fuzz config's -device).
TESTDEV_DEVFN = 0x08            # 00:01.0, the first free slot
BAR0 = 0xe0000000
NATIVE_BAR1 = 0xe0001000        # MSI-X (table at 0, PBA at 0x800)
EPF_RAM_BARS = (0xe0001000, 0xe0002000, 0xe0004000, 0xe0020000, 0xe0100000)
MSIX_CAP = 0x40                 # placed by msix_init: the first free slot
MCH_PCIEXBAR = 0x60
ECAM = 0xb0000000               # MCH_HOST_BRIDGE_PCIEXBAR_DEFAULT
ECAM_TESTDEV = ECAM + (TESTDEV_DEVFN << 12)
MSI_ADDR = 0xfee00000           # the local APICs
BIOS_ROM = 0xfffc0000           # read-only: a write is refused
SPARSE = 0x100000000            # above RAM: sparse memory (MMIO)
PCI_COMMAND = 0x04
PCI_BAR0 = 0x10
PCI_CMD_MEM_MASTER = 0x0006
PCI_EXP_DEVCTL = 0x08
PCI_EXP_DEVCTL_FLR = 0x8000
MSI_CTRL, MSI_ADDR_LO, MSI_ADDR_HI, MSI_DATA, MSI_MASK = 2, 4, 8, 12, 16
MSIX_ENABLE, MSIX_MASKALL = 0x8000, 0x4000

# Guest RAM (512 MiB) used by the seeds: above the legacy ranges.
LIST_A = 0x00100000             # source segment list
LIST_B = 0x00101000             # destination segment list
RING_SQ = 0x00102000
RING_CQ = 0x00103000
DATA_A = 0x00110000
DATA_B = 0x00130000

SEED_WORD = 0x5eed0001          # pattern seed of the native commands


D = Consts(ROOT)


def seg(addr, length, flags=0):
    """A segment descriptor (struct dma_testdev_seg)."""
    return struct.pack("<QII", addr, length, flags)


def sqe(opcode, **kw):
    """A submission queue entry (struct dma_testdev_sqe)."""
    return struct.pack(
        "<IIIIQIIQIIQQ", opcode, kw.get("flags", 0), kw.get("seed", SEED_WORD),
        kw.get("vector", 0), kw.get("src", 0), kw.get("src_count", 0),
        kw.get("rsvd0", 0), kw.get("dst", 0), kw.get("dst_count", 0),
        kw.get("rsvd1", 0), kw.get("fill", 0), kw.get("tag", 0))


def pattern_fill(data, index, stride, length):
    """What generic-fuzz writes for a fill of @length bytes."""
    out = bytearray()
    index %= len(data)
    bump = 0
    for i in range(length):
        byte = data[i % len(data)]
        if i % len(data) == index:
            byte = (byte + bump) & 0xff
            bump = (bump + stride) & 0xff
        out.append(byte)
    return bytes(out)


def pattern_words(seed):
    """Pattern whose fill is the device's pattern for @seed: the word at
    transfer offset 8k is seed << 32 | k, right for k < 256 (2 KiB)."""
    return (struct.pack("<II", 0, seed), 0, 1)


def split(data):
    """The commands generic-fuzz finds in @data."""
    cmds = []
    pos = 0
    while pos < len(data):
        nxt = data.find(SEPARATOR, pos)
        end = len(data) if nxt < 0 else nxt
        cmds.append(data[pos:end])
        pos = len(data) if nxt < 0 else nxt + len(SEPARATOR)
    return cmds


class Seed:
    """One generic-fuzz input, built command by command."""

    def __init__(self, name, target, doc):
        self.name = name
        self.target = target
        self.doc = " ".join(doc.split())
        self.cmds = []

    def _add(self, opcode, operands=b""):
        cmd = bytes([opcode]) + operands
        if SEPARATOR in cmd:
            raise ValueError(f"{self.name}: command {cmd.hex()} contains "
                             "the separator")
        self.cmds.append(cmd)
        return self

    def write(self, offset, value, size=4, region=REGION_REGS):
        """MMIO write of @size bytes at @offset of @region."""
        return self._add(OP_WRITE, struct.pack(
            "<BBxxIQ", MMIO_SIZE[size], region, offset,
            value & ((1 << (8 * size)) - 1)))

    def read(self, offset, size=4, region=REGION_REGS):
        """MMIO read."""
        return self._add(OP_READ, struct.pack("<BBxxI", MMIO_SIZE[size],
                                              region, offset))

    def cfg_write(self, offset, value, size=4, dev=DEV_TESTDEV):
        """PCI config write through 0xcf8/0xcfc."""
        return self._add(OP_PCI_WRITE, struct.pack(
            "<BBBxI", PCI_SIZE[size], dev, offset,
            value & ((1 << (8 * size)) - 1)))

    def cfg_read(self, offset, size=4, dev=DEV_TESTDEV):
        """PCI config read."""
        return self._add(OP_PCI_READ, struct.pack("<BBB", PCI_SIZE[size],
                                                  dev, offset))

    def patterns(self, *pats):
        """Replace the DMA patterns: each is bytes or (bytes, index,
        stride); the next fill uses the first."""
        self._add(OP_CLEAR_DMA_PATTERNS)
        for pat in pats:
            data, index, stride = pat if isinstance(pat, tuple) \
                else (pat, 0, 0)
            self._add(OP_ADD_DMA_PATTERN,
                      struct.pack("<BB", index, stride) + data)
        return self

    def clock(self, count=1):
        """Clock steps, each to the next timer deadline."""
        for _ in range(count):
            self._add(OP_CLOCK_STEP)
        return self

    def enable_ecam(self):
        """PCIEXBAR = 0xb0000001: 256 MiB of ECAM at 0xb0000000."""
        return self.cfg_write(MCH_PCIEXBAR, ECAM | 1, dev=DEV_MCH)

    def flr(self):
        """Function Level Reset through the PCIe Device Control."""
        return self.cfg_write(D.PCIE_CAP_OFFSET + PCI_EXP_DEVCTL,
                              PCI_EXP_DEVCTL_FLR, size=2)

    def remap(self, bars):
        """Give the BARs their addresses again (after an FLR) and turn
        memory decoding and bus mastering back on."""
        for i, addr in enumerate(bars):
            self.cfg_write(PCI_BAR0 + 4 * i, addr)
        return self.cfg_write(PCI_COMMAND, PCI_CMD_MEM_MASTER, size=2)

    def encode(self):
        """The input file's bytes."""
        data = SEPARATOR.join(self.cmds)
        if split(data) != self.cmds:
            raise ValueError(f"{self.name} does not split back into its "
                             "commands")
        for cmd in self.cmds:
            need = MIN_OPERANDS.get(cmd[0] % 10, 0)
            if len(cmd) - 1 < need:
                raise ValueError(f"{self.name}: short command {cmd.hex()}")
        return data


# --- native personality ---------------------------------------------------
# A function native_NAME(seed) or epf_NAME(seed) builds the seed
# native-NAME or epf-NAME of that target; its docstring says what it
# exercises.

def intr_causes():
    """Every interrupt cause bit."""
    return D.INTR_CMD_DONE | D.INTR_QUEUE_CMPL | D.INTR_QUEUE_ERROR


def reg_cmd(seed, opcode, src=None, dst=None):
    """Program the register path's lists (address, count), start @opcode."""
    if src:
        seed.write(D.REG_SRC_LIST_LO, src[0], 8)
        seed.write(D.REG_SRC_COUNT, src[1])
    if dst:
        seed.write(D.REG_DST_LIST_LO, dst[0], 8)
        seed.write(D.REG_DST_COUNT, dst[1])
    return seed.write(D.REG_CMD, opcode)


def queue_setup(seed, size=4, intr=True):
    """Q_SIZE, ring bases, interrupts, then Q_CTRL enable."""
    seed.write(D.REG_Q_SIZE, size)
    seed.write(D.REG_SQ_BASE_LO, RING_SQ, 8)
    seed.write(D.REG_CQ_BASE_LO, RING_CQ, 8)
    if intr:
        seed.write(D.REG_INTR_ENABLE, intr_causes())
    return seed.write(D.REG_Q_CTRL, D.QCTRL_ENABLE)


def native_write_verify(seed):
    """Register path: WRITE_PATTERN to one segment (list and segment filled
    by the one pattern, the data then overwritten by the device), then,
    with no pattern, VERIFY_PATTERN of what it wrote: a clean pass.  INTx:
    CMD_DONE enabled, asserted, acknowledged."""
    seed.patterns(seg(DATA_A, 0x800))
    seed.write(D.REG_SEED, SEED_WORD)
    seed.write(D.REG_INTR_ENABLE, D.INTR_CMD_DONE)
    reg_cmd(seed, D.OP_WRITE_PATTERN, dst=(LIST_B, 1))
    seed.read(D.REG_STATUS).read(D.REG_BYTES_DONE_LO, 8)
    seed.patterns()
    reg_cmd(seed, D.OP_VERIFY_PATTERN, src=(LIST_B, 1))
    seed.read(D.REG_STATUS).read(D.REG_CHECKSUM_LO, 8)
    seed.read(D.REG_INTR_STATUS).write(D.REG_INTR_STATUS, D.INTR_CMD_DONE)


def native_verify_mismatch(seed):
    """Register path: VERIFY_PATTERN of 4 KiB whose data the DMA pattern
    makes the device's pattern for 2 KiB, then wrong (the counter byte
    wraps): mismatch status and every MISMATCH_* register."""
    seed.patterns(seg(DATA_A, 0x1000), pattern_words(SEED_WORD))
    seed.write(D.REG_SEED, SEED_WORD)
    reg_cmd(seed, D.OP_VERIFY_PATTERN, src=(LIST_A, 1))
    for off in (D.REG_STATUS, D.REG_MISMATCH_SEG, D.REG_MISMATCH_COUNT):
        seed.read(off)
    for off in (D.REG_MISMATCH_OFF_LO, D.REG_MISMATCH_EXP_LO,
                D.REG_MISMATCH_GOT_LO, D.REG_CHECKSUM_LO):
        seed.read(off, 8)


def native_multiseg(seed):
    """Register path: WRITE_PATTERN over three segments of odd lengths and
    alignments (partial words across segment boundaries), then VERIFY of
    the same list from RAM (no pattern): a pass byte by byte."""
    seed.patterns(seg(DATA_A + 3, 13), seg(DATA_A + 0x105, 0x1f5),
                  seg(DATA_B + 7, 1))
    seed.write(D.REG_SEED, SEED_WORD + 1)
    reg_cmd(seed, D.OP_WRITE_PATTERN, dst=(LIST_B, 3))
    seed.patterns()
    reg_cmd(seed, D.OP_VERIFY_PATTERN, src=(LIST_B, 3))
    seed.read(D.REG_STATUS).read(D.REG_BYTES_DONE_LO, 8)


def native_copy(seed):
    """Register path: COPY of one segment to one, then of two source
    segments into one destination of the same total (the copy loop
    crossing a source boundary), then a COPY whose totals differ
    (LENGTH_MISMATCH)."""
    seed.patterns(seg(DATA_A, 0x400), seg(DATA_B, 0x400))
    reg_cmd(seed, D.OP_COPY, src=(LIST_A, 1), dst=(LIST_B, 1))
    seed.read(D.REG_STATUS).read(D.REG_CHECKSUM_LO, 8)
    seed.patterns(seg(DATA_A, 0x100), seg(DATA_A + 0x300, 0x80),
                  seg(DATA_B, 0x180))
    seed.write(D.REG_SRC_COUNT, 2)
    seed.write(D.REG_CMD, D.OP_COPY)
    seed.read(D.REG_BYTES_DONE_LO, 8)
    seed.patterns(seg(DATA_A, 0x100), seg(DATA_A + 0x300, 0x80),
                  seg(DATA_B, 0x100))
    seed.write(D.REG_CMD, D.OP_COPY)
    seed.read(D.REG_ERROR)


def native_fill_targets(seed):
    """Register path: FILL (64-bit word written as one 8-byte access) to
    RAM, to sparse memory above RAM (the bounce-buffer path), to the BIOS
    ROM (write refused: DMA access error) and to the device's own BAR0
    (refused by the re-entrancy guard)."""
    seed.write(D.REG_FILL_LO, 0x0123456789abcdef, 8)
    seed.patterns(seg(DATA_A + 1, 0x203))
    reg_cmd(seed, D.OP_FILL, dst=(LIST_B, 1))
    for addr in (SPARSE + 0x10, BIOS_ROM, BAR0):
        seed.patterns(seg(addr, 0x40))
        seed.write(D.REG_CMD, D.OP_FILL)
        seed.read(D.REG_ERROR)
    seed.read(D.REG_ERR_ADDR_LO, 8)


def native_read_targets(seed):
    """Register path: VERIFY from sparse memory (filled by the pattern,
    read through the bounce buffer), from the BIOS ROM (readable) and
    from the device's own MSI-X BAR (refused); COPY from RAM into the
    ROM (destination refused) and from its own BAR0 (source refused)."""
    seed.write(D.REG_SEED, SEED_WORD)
    seed.patterns(seg(SPARSE + 0x1000, 0x100), pattern_words(SEED_WORD))
    reg_cmd(seed, D.OP_VERIFY_PATTERN, src=(LIST_A, 1))
    for addr in (BIOS_ROM + 0x3f000, NATIVE_BAR1):
        seed.patterns(seg(addr, 0x80))
        seed.write(D.REG_CMD, D.OP_VERIFY_PATTERN)
        seed.read(D.REG_STATUS)
    seed.patterns(seg(DATA_A, 0x40), seg(BIOS_ROM, 0x40))
    reg_cmd(seed, D.OP_COPY, dst=(LIST_B, 1))
    seed.patterns(seg(BAR0, 0x40), seg(DATA_B, 0x40))
    seed.write(D.REG_CMD, D.OP_COPY)
    seed.read(D.REG_ERROR).read(D.REG_ERR_LIST)


def native_errors_args(seed):
    """Register path: commands refused before any descriptor is read:
    unknown opcode, no segments, too many segments, misaligned list, a
    list that wraps past 2^64; a list in the device's own BAR (its read
    refused: LIST_READ)."""
    seed.write(D.REG_CMD, D.OP_MAX + 1)
    seed.write(D.REG_CMD, D.OP_NONE)
    reg_cmd(seed, D.OP_WRITE_PATTERN, dst=(LIST_B, 0))
    seed.write(D.REG_DST_COUNT, 0x7fffffff)
    seed.write(D.REG_CMD, D.OP_FILL)
    reg_cmd(seed, D.OP_WRITE_PATTERN, dst=(LIST_B + 8, 1))
    reg_cmd(seed, D.OP_WRITE_PATTERN, dst=(0xfffffffffffffff0, 2))
    reg_cmd(seed, D.OP_VERIFY_PATTERN, src=(LIST_A, 0))
    reg_cmd(seed, D.OP_FILL, dst=(BAR0, 1))
    seed.read(D.REG_ERROR).read(D.REG_ERR_ADDR_LO, 8)


def native_errors_segments(seed):
    """Register path: descriptors that fail validation: reserved flags,
    zero length, address + length wrapping, a transfer over the maximum
    (max-transfer); a VERIFY whose source list is bad and a COPY whose
    destination list is."""
    seed.write(D.REG_DST_LIST_LO, LIST_B, 8)
    seed.write(D.REG_DST_COUNT, 1)
    for desc in (seg(DATA_A, 0x10, 1), seg(DATA_A, 0),
                 seg(0xffffffffffffff00, 0x1000), seg(DATA_A, 0xffffffff)):
        seed.patterns(desc)
        seed.write(D.REG_CMD, D.OP_WRITE_PATTERN)
    seed.read(D.REG_ERR_SEG).read(D.REG_ERR_LIST)
    seed.patterns(seg(DATA_A, 0))
    reg_cmd(seed, D.OP_VERIFY_PATTERN, src=(LIST_A, 1))
    seed.patterns(seg(DATA_A, 0x10), seg(DATA_B, 0x10, 2))
    reg_cmd(seed, D.OP_COPY, src=(LIST_A, 1))
    seed.read(D.REG_ERROR)


def native_bad_access(seed):
    """Register accesses the device refuses and counts: 1- and 2-byte
    accesses, a misaligned one, writes to read-only registers, unknown
    offsets, an 8-byte access to a register that is not a _LO, reserved
    bits in INTR_ENABLE, INTR_STATUS and Q_CTRL; then BAD_COUNT and
    BAD_INFO."""
    seed.write(D.REG_CMD, D.OP_FILL, 1)
    seed.write(D.REG_SEED, 0x1234, 2)
    seed.read(D.REG_ID, 1).read(D.REG_ID, 2).read(D.REG_SEED + 2)
    seed.write(D.REG_SEED + 1, SEED_WORD)
    seed.write(D.REG_ID, 0).write(D.REG_STATUS, 0).write(D.REG_SQ_HEAD, 1)
    seed.write(0x200, 1).read(0x200).read(0xffc)
    seed.write(D.REG_SRC_COUNT, 0x1111111122222222, 8)
    seed.read(D.REG_CMD, 8)
    seed.write(D.REG_INTR_ENABLE, 0xffffffff)
    seed.write(D.REG_INTR_STATUS, 0xffffffff)
    seed.write(D.REG_INTR_VECTOR, 0xffffffff)
    seed.write(D.REG_Q_CTRL, 0xfffffffe)
    seed.read(D.REG_BAD_COUNT).read(D.REG_BAD_INFO)


def reg_reads(seed, first, last):
    """Read every register in [first, last] (8 bytes at a _LO, else 4),
    after a FILL so that the results are not all zero."""
    seed.patterns(seg(DATA_A, 0x10))
    reg_cmd(seed, D.OP_FILL, dst=(LIST_B, 1))
    skip = set()
    for off, name in sorted((v, k) for k, v in D.names("REG_").items()):
        if first <= off <= last and off not in skip:
            seed.read(off, 8 if name.endswith("_LO") else 4)
            skip.add(off + 4 if name.endswith("_LO") else off)


def native_reg_reads_low(seed):
    """Read the identification, parameter and result registers, 8 bytes
    at once where a register has a _LO and a _HI half."""
    reg_reads(seed, 0, D.REG_MISMATCH_GOT_HI)


def native_reg_reads_high(seed):
    """Read the checksum, interrupt, queue and bad-access registers."""
    reg_reads(seed, D.REG_CHECKSUM_LO, D.REG_BAD_INFO)


def native_queue_write_verify(seed):
    """Command queue: Q_SIZE, SQ/CQ bases, interrupts, Q_CTRL enable; a
    WRITE_PATTERN entry with SQE_F_INTR (SQ_TAIL doorbell, clock steps:
    fetch, run, completion, QUEUE_CMPL interrupt), then a VERIFY_PATTERN
    entry that passes; CQ_HEAD doorbell, queue status and counters."""
    queue_setup(seed)
    seed.patterns(sqe(D.OP_WRITE_PATTERN, flags=D.SQE_F_INTR, dst=LIST_B,
                      dst_count=1, tag=1),
                  seg(DATA_A, 0x800), b"\0")
    seed.write(D.REG_SQ_TAIL, 1).clock(2)
    seed.patterns(sqe(D.OP_VERIFY_PATTERN, flags=D.SQE_F_INTR, src=LIST_B,
                      src_count=1, tag=2),
                  seg(DATA_A, 0x800), pattern_words(SEED_WORD))
    seed.write(D.REG_SQ_TAIL, 2).clock(2)
    seed.read(D.REG_CQ_TAIL).read(D.REG_Q_DONE_LO, 8)
    seed.write(D.REG_CQ_HEAD, 2)
    seed.read(D.REG_Q_STATUS).read(D.REG_INTR_STATUS)
    return seed


def native_queue_copy_fill(seed):
    """Command queue: a COPY entry (five fills: entry, two lists, source,
    destination) and a FILL entry, each run by clock steps; then the
    queue disabled and enabled again."""
    queue_setup(seed, intr=False)
    seed.patterns(sqe(D.OP_COPY, src=LIST_A, src_count=1, dst=LIST_B,
                      dst_count=1, tag=3),
                  seg(DATA_A, 0x300), seg(DATA_B, 0x300), b"\x5a", b"\0")
    seed.write(D.REG_SQ_TAIL, 1).clock(2)
    seed.patterns(sqe(D.OP_FILL, dst=LIST_B, dst_count=1,
                      fill=0xfeedfacecafef00d, tag=4),
                  seg(DATA_B + 0x11, 0x2ff), b"\0")
    seed.write(D.REG_SQ_TAIL, 2).clock(2)
    seed.write(D.REG_CQ_HEAD, 2)
    seed.write(D.REG_Q_CTRL, 0).write(D.REG_Q_CTRL, D.QCTRL_ENABLE)
    seed.read(D.REG_Q_STATUS)


def native_queue_wrap(seed):
    """Command queue of the smallest size (2): the SQ and CQ indexes wrap,
    the CQ fills up (CQ_FULL) until the CQ_HEAD doorbell frees it, and
    the completion phase bit flips.  One set of patterns serves every
    entry (three fills each)."""
    queue_setup(seed, size=2, intr=False)
    seed.patterns(sqe(D.OP_WRITE_PATTERN, dst=LIST_B, dst_count=1, tag=5),
                  seg(DATA_A, 0x100), b"\0")
    seed.write(D.REG_SQ_TAIL, 1).clock(2)
    seed.write(D.REG_SQ_TAIL, 0).clock(2)
    seed.read(D.REG_Q_STATUS)
    seed.write(D.REG_CQ_HEAD, 1).clock(2)
    seed.write(D.REG_CQ_HEAD, 0)
    seed.write(D.REG_SQ_TAIL, 1).clock(2)
    seed.read(D.REG_CQ_TAIL).read(D.REG_SQ_HEAD)


def native_queue_long_list(seed):
    """Command queue: one WRITE_PATTERN entry of 300 segments, more than
    one step (step-size 4096) can validate, then many steps of data; one
    pattern is both the entry and every descriptor (op 1 at address 1,
    length = seed).  Meanwhile: a register command (refused, BUSY), a
    queue register written while enabled, status reads."""
    queue_setup(seed)
    seed.patterns(sqe(D.OP_WRITE_PATTERN, seed=0x100, dst=LIST_B,
                      dst_count=300, tag=6))
    seed.write(D.REG_SQ_TAIL, 1).clock(3)
    seed.write(D.REG_CMD, D.OP_FILL)
    seed.write(D.REG_Q_SIZE, 8)
    seed.read(D.REG_Q_STATUS).read(D.REG_STATUS)
    seed.clock(24)
    seed.read(D.REG_CQ_TAIL).read(D.REG_Q_DONE_LO, 8)


def native_queue_long_copy(seed):
    """Command queue: a COPY entry with 300 source and 300 destination
    segments (op 3 at address 3, length = seed, copied onto itself): both
    lists need more than one step to validate and the copy runs out of
    budget mid-segment, step after step."""
    queue_setup(seed, intr=False)
    seed.patterns(sqe(D.OP_COPY, seed=0x40, src=LIST_A, src_count=300,
                      dst=LIST_B, dst_count=300, tag=8))
    seed.write(D.REG_SQ_TAIL, 1).clock(16)
    seed.read(D.REG_CQ_TAIL).read(D.REG_Q_STATUS)


def native_queue_list_changed(seed):
    """Command queue: a WRITE_PATTERN entry of two segments whose second
    descriptor is rewritten (by a new DMA pattern) between the step that
    validated it and the step that loads it again: reserved flags, the
    command fails mid-transfer."""
    queue_setup(seed, intr=False)
    seed.patterns(sqe(D.OP_WRITE_PATTERN, dst=LIST_B, dst_count=2, tag=9),
                  seg(DATA_A, 0x2000), seg(DATA_B, 0x10), b"\0")
    seed.write(D.REG_SQ_TAIL, 1).clock()
    seed.patterns(seg(DATA_B, 0x10, 1))
    seed.clock(4)
    seed.read(D.REG_CQ_TAIL)


def native_queue_copy_changed(seed):
    """Command queue: a COPY entry whose second destination descriptor is
    shortened (by a new DMA pattern) after validation: the destination
    runs out before the source, LENGTH_MISMATCH mid-transfer."""
    queue_setup(seed, intr=False)
    seed.patterns(sqe(D.OP_COPY, src=LIST_A, src_count=1, dst=LIST_B,
                      dst_count=2, tag=10),
                  seg(DATA_A, 0x2000), seg(DATA_B, 0x1000),
                  seg(DATA_B + 0x1000, 0x1000), b"\0", b"\0")
    seed.write(D.REG_SQ_TAIL, 1).clock()
    seed.patterns(seg(DATA_B + 0x1000, 0x800))
    seed.clock(4)
    seed.read(D.REG_CQ_TAIL)


def native_queue_abandon(seed):
    """Command queue: a 24 KiB FILL entry runs over several steps and is
    abandoned mid-transfer by Q_CTRL disable, then resubmitted after
    re-enabling, and abandoned again by an FLR; the BARs are mapped
    again afterwards and the registers read."""
    entry = sqe(D.OP_FILL, dst=LIST_B, dst_count=1, fill=0x1111, tag=7)
    queue_setup(seed, intr=False)
    seed.patterns(entry, seg(DATA_A, 0x6000), b"\0")
    seed.write(D.REG_SQ_TAIL, 1).clock(2)
    seed.write(D.REG_Q_CTRL, 0)
    seed.write(D.REG_Q_CTRL, D.QCTRL_ENABLE)
    seed.patterns(entry, seg(DATA_A, 0x6000), b"\0")
    seed.write(D.REG_SQ_TAIL, 1).clock(2)
    seed.flr()
    seed.remap((BAR0, NATIVE_BAR1))
    seed.read(D.REG_Q_STATUS).read(D.REG_CMD_SEQ_LO, 8)


def native_queue_setup_errors(seed):
    """Queue set-up errors, each halting the queue at Q_CTRL enable until
    it is disabled: size 1, misaligned SQ and CQ bases, an SQ and a CQ
    that wrap past 2^64; QUEUE_ERROR interrupt; Q_ERROR, Q_ERR_ADDR."""
    seed.write(D.REG_INTR_ENABLE, D.INTR_QUEUE_ERROR)
    seed.write(D.REG_Q_SIZE, 1).write(D.REG_Q_CTRL, D.QCTRL_ENABLE)
    seed.write(D.REG_Q_CTRL, 0).write(D.REG_Q_SIZE, 4)
    for reg, bad, good in ((D.REG_SQ_BASE_LO, RING_SQ + 8, RING_SQ),
                           (D.REG_CQ_BASE_LO, RING_CQ + 0x20, RING_CQ),
                           (D.REG_SQ_BASE_LO, 0xffffffffffffffc0, RING_SQ),
                           (D.REG_CQ_BASE_LO, 0xffffffffffffffc0, RING_CQ)):
        seed.write(reg, bad, 8).write(D.REG_Q_CTRL, D.QCTRL_ENABLE)
        seed.write(D.REG_Q_CTRL, 0).write(reg, good, 8)
    seed.read(D.REG_Q_ERROR).read(D.REG_Q_ERR_ADDR_LO, 8)


def native_queue_doorbell_errors(seed):
    """Doorbells while the queue is disabled; a queue register written
    while it is enabled; an SQ_TAIL rung twice before the step runs; an
    SQ_TAIL and a CQ_HEAD beyond the ring, each halting the queue."""
    seed.write(D.REG_SQ_TAIL, 1).write(D.REG_CQ_HEAD, 1)
    queue_setup(seed)
    seed.write(D.REG_SQ_BASE_LO, RING_SQ)
    seed.patterns(sqe(D.OP_FILL, dst=LIST_B, dst_count=1), seg(DATA_A, 8),
                  b"\0")
    seed.write(D.REG_SQ_TAIL, 1).write(D.REG_SQ_TAIL, 1).clock(2)
    seed.write(D.REG_SQ_TAIL, 9).read(D.REG_Q_ERROR)
    seed.write(D.REG_Q_CTRL, 0).write(D.REG_Q_CTRL, D.QCTRL_ENABLE)
    seed.write(D.REG_CQ_HEAD, 3).read(D.REG_Q_ERR_ADDR_LO, 8)
    seed.write(D.REG_SQ_TAIL, 1).read(D.REG_Q_STATUS)


def native_queue_entry_errors(seed):
    """Queue entries that fail: reserved flag bits, a vector >= 32, an
    unknown opcode; each completes with its error (the completion's
    error and status words)."""
    queue_setup(seed, intr=False)
    entries = (sqe(D.OP_FILL, flags=0x80, dst=LIST_B, dst_count=1),
               sqe(D.OP_FILL, flags=D.SQE_F_INTR, vector=40, dst=LIST_B,
                   dst_count=1),
               sqe(D.OP_MAX + 3, dst=LIST_B, dst_count=1))
    for i, entry in enumerate(entries):
        seed.patterns(entry)
        seed.write(D.REG_SQ_TAIL, (i + 1) % 4).clock(2)
    seed.read(D.REG_Q_DONE_LO, 8)


def native_queue_ring_faults(seed):
    """Rings the device cannot use: an SQ in the device's own BAR (the
    fetch is refused: SQ_READ halt), then a CQ in the BIOS ROM (the
    completion write is refused: CQ_WRITE halt); Q_ERR_CAUSE."""
    seed.write(D.REG_Q_SIZE, 4)
    seed.write(D.REG_SQ_BASE_LO, BAR0, 8)
    seed.write(D.REG_CQ_BASE_LO, RING_CQ, 8)
    seed.write(D.REG_Q_CTRL, D.QCTRL_ENABLE)
    seed.write(D.REG_SQ_TAIL, 1).clock(2)
    seed.read(D.REG_Q_ERROR).read(D.REG_Q_ERR_CAUSE)
    seed.write(D.REG_Q_CTRL, 0)
    seed.write(D.REG_SQ_BASE_LO, RING_SQ, 8)
    seed.write(D.REG_CQ_BASE_LO, BIOS_ROM, 8)
    seed.write(D.REG_Q_CTRL, D.QCTRL_ENABLE)
    seed.patterns(sqe(D.OP_FILL, dst=LIST_B, dst_count=1), seg(DATA_A, 8),
                  b"\0")
    seed.write(D.REG_SQ_TAIL, 1).clock(2)
    seed.read(D.REG_Q_ERROR).read(D.REG_Q_ERR_ADDR_LO, 8)


def native_msi(seed):
    """MSI: address, data and 8 vectors through config space, enable;
    commands signal CMD_DONE on INTR_VECTOR 3, on an unavailable vector
    (falls back to 0: VECTOR_FALLBACK), on a masked vector (pending,
    sent when unmasked); INTR_INFO; MSI off again moves the latched
    cause to INTx."""
    cap = D.MSI_CAP_OFFSET
    seed.cfg_write(cap + MSI_ADDR_LO, MSI_ADDR)
    seed.cfg_write(cap + MSI_ADDR_HI, 0)
    seed.cfg_write(cap + MSI_DATA, 0x0031, size=2)
    seed.cfg_write(cap + MSI_CTRL, 0x0031, size=2)
    seed.write(D.REG_INTR_ENABLE, D.INTR_CMD_DONE)
    seed.write(D.REG_INTR_VECTOR, 3)
    seed.write(D.REG_CMD, D.OP_FILL)
    seed.write(D.REG_INTR_VECTOR, 20)
    seed.write(D.REG_CMD, D.OP_FILL)
    seed.write(D.REG_INTR_VECTOR, 0)
    seed.cfg_write(cap + MSI_MASK, 1)
    seed.write(D.REG_CMD, D.OP_FILL)
    seed.cfg_write(cap + MSI_MASK, 0)
    seed.read(D.REG_INTR_INFO).read(D.REG_INTR_STATUS)
    seed.cfg_write(cap + MSI_CTRL, 0, size=2)
    seed.write(D.REG_INTR_STATUS, intr_causes() | D.INTR_VECTOR_FALLBACK)
    seed.cfg_read(cap + MSI_CTRL, size=2)


def native_msix(seed):
    """MSI-X: enable through config space, program and unmask table
    entries through the MSI-X BAR; a command on vector 2, one on masked
    vector 5 (its PBA bit read, then sent on unmask), one on vector 9
    (fallback); the function mask."""
    seed.cfg_write(MSIX_CAP + 2, MSIX_ENABLE, size=2)
    for vec in (0, 2):
        seed.write(16 * vec, MSI_ADDR, region=REGION_MSIX_TABLE)
        seed.write(16 * vec + 8, 0x40 + vec, region=REGION_MSIX_TABLE)
        seed.write(16 * vec + 12, 0, region=REGION_MSIX_TABLE)
    seed.write(16 * 5 + 8, 0x45, region=REGION_MSIX_TABLE)
    seed.write(D.REG_INTR_ENABLE, D.INTR_CMD_DONE | D.INTR_QUEUE_CMPL)
    for vec in (2, 5, 9):
        seed.write(D.REG_INTR_VECTOR, vec)
        seed.write(D.REG_CMD, D.OP_FILL)
    seed.read(0, 8, region=REGION_MSIX_PBA)
    seed.write(16 * 5 + 12, 0, region=REGION_MSIX_TABLE)
    seed.cfg_write(MSIX_CAP + 2, MSIX_ENABLE | MSIX_MASKALL, size=2)
    seed.write(D.REG_CMD, D.OP_FILL)
    seed.cfg_write(MSIX_CAP + 2, MSIX_ENABLE, size=2)
    seed.read(D.REG_INTR_INFO)


def native_ecam(seed):
    """ECAM (MCH PCIEXBAR enabled through the MCH's config space), then
    DMA into config space: VERIFY reads the device's own config space,
    COPY moves the MCH's header to RAM, FILL rewrites the device's own
    Command register through ECAM, and a FILL sets Initiate FLR in its
    own Device Control: a reset in the middle of its own DMA."""
    seed.enable_ecam()
    seed.patterns(seg(ECAM_TESTDEV, 0x100))
    reg_cmd(seed, D.OP_VERIFY_PATTERN, src=(LIST_A, 1))
    seed.patterns(seg(ECAM, 0x40), seg(DATA_B, 0x40))
    reg_cmd(seed, D.OP_COPY, dst=(LIST_B, 1))
    seed.write(D.REG_FILL_LO, PCI_CMD_MEM_MASTER)
    seed.patterns(seg(ECAM_TESTDEV + PCI_COMMAND, 2))
    seed.write(D.REG_CMD, D.OP_FILL)
    seed.read(D.REG_STATUS)
    seed.write(D.REG_FILL_LO, PCI_EXP_DEVCTL_FLR)
    seed.patterns(seg(ECAM_TESTDEV + D.PCIE_CAP_OFFSET + PCI_EXP_DEVCTL, 2))
    seed.write(D.REG_CMD, D.OP_FILL)
    seed.remap((BAR0, NATIVE_BAR1))
    seed.read(D.REG_STATUS).read(D.REG_CMD_SEQ_LO, 8)


def native_queue_ecam_flr(seed):
    """ECAM enabled; a queue FILL entry whose destination is the device's
    own Device Control, the fill word Initiate FLR: the queue step resets
    its own device mid-command (once a division by zero: the completion
    computed its slot with the Q_SIZE the reset had cleared)."""
    seed.enable_ecam()
    queue_setup(seed)
    seed.patterns(sqe(D.OP_FILL, flags=D.SQE_F_INTR, dst=LIST_B,
                      dst_count=1, fill=PCI_EXP_DEVCTL_FLR, tag=11),
                  seg(ECAM_TESTDEV + D.PCIE_CAP_OFFSET + PCI_EXP_DEVCTL, 2))
    seed.write(D.REG_SQ_TAIL, 1).clock(2)
    seed.remap((BAR0, NATIVE_BAR1))
    seed.read(D.REG_Q_STATUS).read(D.REG_CQ_TAIL)


# --- epf-test personality -------------------------------------------------

def run_epf(seed, command, src=None, dst=None, size=None):
    """Program SRC/DST/SIZE (those given), write COMMAND, a clock step."""
    if src is not None:
        seed.write(D.EPF_SRC_LO, src & 0xffffffff)
        seed.write(D.EPF_SRC_HI, src >> 32)
    if dst is not None:
        seed.write(D.EPF_DST_LO, dst & 0xffffffff)
        seed.write(D.EPF_DST_HI, dst >> 32)
    if size is not None:
        seed.write(D.EPF_SIZE, size)
    seed.write(D.EPF_COMMAND, command)
    return seed.clock()


def checksum_epf(data):
    """CHECKSUM of a READ: Linux's crc32_le(~0, ...) (no final ~)."""
    return ~zlib.crc32(data) & 0xffffffff


def epf_read(seed):
    """epf-test READ of 1 KiB (data from a DMA pattern) with the right
    CHECKSUM (READ_OK), INTx raised and dropped by the STATUS read; then
    the same READ with a wrong CHECKSUM (READ_FAIL)."""
    data = b"dma-testdev epf\0"
    seed.patterns(data)
    seed.write(D.EPF_CHECKSUM, checksum_epf(pattern_fill(data, 0, 0, 0x400)))
    seed.write(D.EPF_FLAGS, 1)
    seed.write(D.EPF_IRQ_TYPE, D.EPF_IRQ_INTX).write(D.EPF_IRQ_NUMBER, 1)
    run_epf(seed, D.EPF_CMD_READ, src=DATA_A, size=0x400)
    seed.read(D.EPF_STATUS)
    seed.write(D.EPF_CHECKSUM, 0)
    run_epf(seed, D.EPF_CMD_READ)
    seed.read(D.EPF_STATUS)


def epf_write_read(seed):
    """epf-test WRITE of 4 KiB (CHECKSUM set by the device), then, with no
    DMA pattern, READ of the same buffer against that CHECKSUM: READ_OK;
    then WRITE into the device's own RAM BAR1 and READ it back."""
    run_epf(seed, D.EPF_CMD_WRITE, dst=DATA_B, size=0x1000)
    seed.read(D.EPF_STATUS).read(D.EPF_CHECKSUM)
    run_epf(seed, D.EPF_CMD_READ, src=DATA_B)
    seed.read(D.EPF_STATUS)
    run_epf(seed, D.EPF_CMD_WRITE, dst=EPF_RAM_BARS[0])
    run_epf(seed, D.EPF_CMD_READ, src=EPF_RAM_BARS[0])
    seed.read(D.EPF_STATUS)


def epf_copy(seed):
    """epf-test COPY of 96 KiB (two bounce-buffer chunks, each source read
    filled by the pattern), then from RAM into the device's RAM BAR4 and
    from BAR5 to sparse memory above RAM."""
    seed.patterns((b"\x11\x22\x33\x44\x55\x66\x77\x88", 3, 5))
    run_epf(seed, D.EPF_CMD_COPY, src=DATA_A, dst=DATA_B + 0x10000,
            size=0x18000)
    seed.read(D.EPF_STATUS)
    run_epf(seed, D.EPF_CMD_COPY, dst=EPF_RAM_BARS[3], size=0x1000)
    run_epf(seed, D.EPF_CMD_COPY, src=EPF_RAM_BARS[4], dst=SPARSE)
    seed.read(D.EPF_STATUS)


def epf_irqs(seed):
    """epf-test interrupts: RAISE_INTX; MSI set up through config space and
    RAISE_MSI on vector 1, on vector 0 and beyond the enabled ones (no
    interrupt); MSI-X enabled and table entry 0 unmasked through the
    MSI-X region, RAISE_MSIX; an unknown IRQ_TYPE; the PBA."""
    cap = D.MSI_CAP_OFFSET
    seed.write(D.EPF_IRQ_TYPE, D.EPF_IRQ_INTX)
    run_epf(seed, D.EPF_CMD_RAISE_INTX).read(D.EPF_STATUS)
    seed.cfg_write(cap + MSI_ADDR_LO, MSI_ADDR)
    seed.cfg_write(cap + MSI_DATA, 0x0032, size=2)
    seed.cfg_write(cap + MSI_CTRL, 0x0011, size=2)
    seed.write(D.EPF_IRQ_TYPE, D.EPF_IRQ_MSI)
    for number in (1, 0, 3):
        seed.write(D.EPF_IRQ_NUMBER, number)
        run_epf(seed, D.EPF_CMD_RAISE_MSI)
    seed.cfg_write(MSIX_CAP + 2, MSIX_ENABLE, size=2)
    seed.write(0, MSI_ADDR, region=REGION_MSIX_TABLE)
    seed.write(8, 0x0033, region=REGION_MSIX_TABLE)
    seed.write(12, 0, region=REGION_MSIX_TABLE)
    seed.write(D.EPF_IRQ_TYPE, D.EPF_IRQ_MSIX).write(D.EPF_IRQ_NUMBER, 1)
    run_epf(seed, D.EPF_CMD_RAISE_MSIX)
    seed.write(D.EPF_IRQ_NUMBER, 2)
    run_epf(seed, D.EPF_CMD_RAISE_MSIX)
    seed.read(0, 8, region=REGION_MSIX_PBA)
    seed.write(D.EPF_IRQ_TYPE, 3)
    run_epf(seed, D.EPF_CMD_RAISE_MSI)


def epf_errors(seed):
    """epf-test failures: SIZE 0, a source that wraps past 2^64, a
    destination in the device's own register BAR (refused), COMMAND with
    two bits and with an unknown bit (ignored); a READ from that BAR
    (refused)."""
    run_epf(seed, D.EPF_CMD_READ, src=DATA_A, size=0)
    run_epf(seed, D.EPF_CMD_WRITE, dst=DATA_A)
    seed.read(D.EPF_STATUS)
    run_epf(seed, D.EPF_CMD_READ, src=0xfffffffffffff000, size=0x2000)
    run_epf(seed, D.EPF_CMD_WRITE, dst=BAR0, size=0x40)
    run_epf(seed, D.EPF_CMD_READ, src=BAR0)
    seed.read(D.EPF_STATUS)
    run_epf(seed, D.EPF_CMD_READ | D.EPF_CMD_WRITE)
    run_epf(seed, 1 << 9)
    seed.read(D.EPF_STATUS)


def epf_regs(seed):
    """epf-test registers: every one read, MAGIC written, the read-only
    ones written, unknown offsets, 1-, 2- and 8-byte and misaligned
    accesses (all refused and counted)."""
    seed.write(D.EPF_MAGIC, 0x12345678)
    for off in range(0, D.EPF_DB_DATA + 4, 4):
        seed.read(off)
    for off in (D.EPF_CAPS, D.EPF_DB_BAR, D.EPF_DB_OFFSET, D.EPF_DB_DATA,
                0x40):
        seed.write(off, 1)
    seed.write(D.EPF_STATUS, 0x1ff)
    seed.read(0x7c).write(D.EPF_STATUS, 1, 1).read(D.EPF_MAGIC, 2)
    seed.read(D.EPF_SRC_LO, 8).write(D.EPF_DST_LO + 2, 1)


def epf_ecam(seed):
    """epf-test with ECAM (enabled through the MCH's config space): a READ
    of the device's own config space by DMA, then a COPY whose
    destination is its own Device Control and whose source (a DMA
    pattern) holds Initiate FLR: the device resets itself mid-command;
    its BARs are mapped again afterwards."""
    seed.enable_ecam()
    run_epf(seed, D.EPF_CMD_READ, src=ECAM_TESTDEV, size=0x100)
    seed.read(D.EPF_STATUS)
    seed.patterns(struct.pack("<H", PCI_EXP_DEVCTL_FLR))
    run_epf(seed, D.EPF_CMD_COPY, src=DATA_A,
            dst=ECAM_TESTDEV + D.PCIE_CAP_OFFSET + PCI_EXP_DEVCTL, size=2)
    seed.remap((BAR0,) + EPF_RAM_BARS)
    seed.read(D.EPF_STATUS).read(D.EPF_SIZE)


def epf_flr(seed):
    """epf-test FLR through the PCIe Device Control with INTx asserted and
    MSI-X enabled; the BARs mapped again; a WRITE after it."""
    seed.write(D.EPF_IRQ_TYPE, D.EPF_IRQ_INTX)
    run_epf(seed, D.EPF_CMD_WRITE, dst=DATA_B, size=0x100)
    seed.cfg_write(MSIX_CAP + 2, MSIX_ENABLE, size=2)
    seed.flr()
    seed.remap((BAR0,) + EPF_RAM_BARS)
    seed.read(D.EPF_STATUS).cfg_read(MSIX_CAP + 2, size=2)
    run_epf(seed, D.EPF_CMD_WRITE, dst=DATA_B, size=0x100)
    seed.read(D.EPF_STATUS)


def epf_long(seed):
    """epf-test transfers of 40 MiB, with no DMA pattern (RAM as it is):
    they run as many 1 MiB callbacks over several commands of the input;
    a WRITE is written to COMMAND while a READ still runs (started when
    it ends), and an FLR lands between two callbacks of a COPY."""
    epf_cmd = D.EPF_COMMAND
    seed.write(D.EPF_SRC_LO, DATA_A).write(D.EPF_SIZE, 0x2800000)
    seed.write(epf_cmd, D.EPF_CMD_READ)
    seed.write(D.EPF_DST_LO, DATA_B + 0x4000000)
    seed.write(epf_cmd, D.EPF_CMD_WRITE).clock(3)
    seed.read(D.EPF_STATUS).read(D.EPF_CHECKSUM)
    seed.write(epf_cmd, D.EPF_CMD_COPY)
    seed.flr()
    seed.remap((BAR0,) + EPF_RAM_BARS)
    seed.read(D.EPF_STATUS).read(D.EPF_SIZE)


# --- dictionary -----------------------------------------------------------

def one(method, *args, **kw):
    """The bytes of one command, built by Seed.@method."""
    return SEPARATOR.join(getattr(Seed("", "", ""), method)(*args,
                                                            **kw).cmds)


def dict_entries():
    """(name, bytes) of the libFuzzer dictionary."""
    entries = [("separator", SEPARATOR),
               ("clock_step", SEPARATOR + one("clock") + SEPARATOR),
               ("clear_patterns", SEPARATOR + one("patterns") + SEPARATOR),
               ("pattern_op", bytes([OP_ADD_DMA_PATTERN, 0, 0])),
               ("cfg_mch_ecam_enable", one("enable_ecam")),
               ("cfg_flr", one("flr"))]
    for off, name in sorted((v, k) for k, v in D.names("REG_").items()):
        size = 8 if name.endswith("_LO") else 4
        short = name[len("DMATD_REG_"):].lower()
        entries += [("w_" + short, one("write", off, 0, size)[:9]),
                    ("r_" + short, one("read", off, size))]
    for name in ("WRITE_PATTERN", "VERIFY_PATTERN", "COPY", "FILL"):
        entries.append(("cmd_" + name.lower(),
                        one("write", D.REG_CMD, getattr(D, "OP_" + name))))
    for name, off, val in (("q_ctrl_enable", D.REG_Q_CTRL, D.QCTRL_ENABLE),
                           ("sq_tail_1", D.REG_SQ_TAIL, 1),
                           ("cq_head_1", D.REG_CQ_HEAD, 1),
                           ("q_size_4", D.REG_Q_SIZE, 4),
                           ("intr_enable_all", D.REG_INTR_ENABLE,
                            intr_causes())):
        entries.append((name, one("write", off, val)))
    for off, name in sorted((v, k) for k, v in D.names("EPF_").items()
                            if v < 0x30 and k[len("DMATD_EPF_"):] in
                            ("MAGIC", "COMMAND", "STATUS", "SRC_LO",
                             "SRC_HI", "DST_LO", "DST_HI", "SIZE",
                             "CHECKSUM", "IRQ_TYPE", "IRQ_NUMBER", "FLAGS")):
        entries.append(("epf_w_" + name[len("DMATD_EPF_"):].lower(),
                        one("write", off, 0)[:9]))
    for name, val in sorted(D.names("EPF_CMD_").items()):
        entries.append((name[len("DMATD_"):].lower(),
                        one("write", D.EPF_COMMAND, val)))
    for name, off, val, size in (
            ("msi_ctrl_8vec", D.MSI_CAP_OFFSET + MSI_CTRL, 0x31, 2),
            ("msi_addr", D.MSI_CAP_OFFSET + MSI_ADDR_LO, MSI_ADDR, 4),
            ("msix_enable", MSIX_CAP + 2, MSIX_ENABLE, 2),
            ("bar0", PCI_BAR0, BAR0, 4),
            ("command_mem_master", PCI_COMMAND, PCI_CMD_MEM_MASTER, 2)):
        entries.append(("cfg_" + name, one("cfg_write", off, val, size)))
    entries += [("msix_entry_addr", one("write", 0, MSI_ADDR,
                                        region=REGION_MSIX_TABLE)),
                ("msix_entry_unmask", one("write", 12, 0,
                                          region=REGION_MSIX_TABLE)),
                ("seg_ram", seg(DATA_A, 0x100)),
                ("seg_ecam_self", seg(ECAM_TESTDEV, 0x40)),
                ("seg_sparse", seg(SPARSE, 0x100)),
                ("sqe_write", sqe(D.OP_WRITE_PATTERN, flags=D.SQE_F_INTR,
                                  dst=LIST_B, dst_count=1)),
                ("sqe_copy", sqe(D.OP_COPY, src=LIST_A, src_count=1,
                                 dst=LIST_B, dst_count=1))]
    for name, val in (("ram_list_a", LIST_A), ("ram_list_b", LIST_B),
                      ("ram_sq", RING_SQ), ("ram_cq", RING_CQ),
                      ("ram_data", DATA_A), ("ecam_self", ECAM_TESTDEV),
                      ("msi_address", MSI_ADDR), ("bar0_address", BAR0)):
        entries.append((name, struct.pack("<Q", val)))
    return entries


def write_dict(path):
    """Write the libFuzzer dictionary (every entry at most 64 bytes)."""
    lines = ["# libFuzzer dictionary for generic-fuzz-dma-testdev and",
             "# generic-fuzz-dma-testdev-epf (scripts/fuzz.sh -dict=).",
             "# Generated by tests/qtest/fuzz/dma-testdev-seeds.py --dict;",
             "# do not edit.  w_*/r_*: a register write (op, size, region,",
             "# offset; the value follows) or read; cmd_*, epf_cmd_*: whole",
             "# writes starting a command; cfg_*: PCI config writes; seg_*,",
             "# sqe_*: a segment descriptor and queue entries, as DMA",
             "# pattern data; the rest: addresses the seeds use.",
             "# SPDX-License-Identifier: GPL-2.0-or-later"]
    for name, data in dict_entries():
        if len(data) > 64:
            raise ValueError(f"dictionary entry {name} is {len(data)} bytes")
        hexed = "".join(f"\\x{byte:02x}" for byte in data)
        lines.append(f'{name}="{hexed}"')
    with open(path, "w", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")


# --- main -----------------------------------------------------------------

def seeds_for(target):
    """Build the seeds of @target: each is named after its function."""
    seeds = []
    prefix = {TARGET_NATIVE: "native_", TARGET_EPF: "epf_"}[target]
    for name, func in list(globals().items()):
        if not name.startswith(prefix) or not callable(func):
            continue
        seed = Seed(name.replace("_", "-"), target, func.__doc__)
        func(seed)
        seeds.append(seed)
    return seeds


def main():
    """Command line."""
    parser = argparse.ArgumentParser(
        description="Write generic-fuzz seed inputs for dma-testdev.")
    parser.add_argument("dir", nargs="?", help="directory for the seeds")
    parser.add_argument("--target", default=TARGET_NATIVE,
                        choices=(TARGET_NATIVE, TARGET_EPF))
    parser.add_argument("--max-len", type=int, default=512,
                        help="fail if a seed is longer (libFuzzer's "
                        "-max_len truncates longer inputs)")
    parser.add_argument("--dict", metavar="FILE",
                        help="write the libFuzzer dictionary instead")
    parser.add_argument("--list", action="store_true",
                        help="list every seed and what it exercises")
    args = parser.parse_args()

    if args.dict:
        write_dict(args.dict)
        return 0
    if args.list:
        for target in (TARGET_NATIVE, TARGET_EPF):
            for seed in seeds_for(target):
                print(f"{seed.name} ({target}, {len(seed.encode())} "
                      f"bytes): {seed.doc}")
        return 0
    if not args.dir:
        parser.error("no directory given")
    os.makedirs(args.dir, exist_ok=True)
    for seed in seeds_for(args.target):
        data = seed.encode()
        if len(data) > args.max_len:
            raise SystemExit(f"{sys.argv[0]}: seed {seed.name} is "
                             f"{len(data)} bytes, over --max-len "
                             f"{args.max_len}")
        path = os.path.join(args.dir, "seed-" + seed.name)
        with open(path, "wb") as out:
            out.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
