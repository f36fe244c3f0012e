#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# The file name, a script's, has dashes.
# pylint: disable=invalid-name
"""Seed corpus for the dma-testdev-state fuzz target.

tests/qtest/fuzz/dma_testdev_state_fuzz.c describes the input: one byte
per property (an index into its value table), a program of opcodes with
their operands up to SAVE, then 3-byte edits of the saved migration
stream.  The property tables, opcodes and address classes are read from
that file at run time, so the seeds follow it.  Each seed below reaches
one state worth migrating: idle, mid-command on either personality, a
halted or full queue, an FLR the device's own DMA caused, a paged DMA
log; and one seed per value of each property table (realize refuses
some).

Usage: dma-testdev-state-seeds.py DIR
       dma-testdev-state-seeds.py --list
"""
# pylint: enable=invalid-name

import argparse
import os
import re
import struct
import sys

from dmatd_contract import ROOT, Consts

HERE = os.path.dirname(os.path.abspath(__file__))
TARGET_C = os.path.join(HERE, "dma_testdev_state_fuzz.c")


def _read(path):
    with open(path, encoding="utf-8") as src:
        return src.read()


def _enum(text, prefix):
    """{NAME: value} of an enum whose members start with @prefix and
    count up from 0 (no explicit values)."""
    names = re.findall(r"^\s*" + prefix + r"(\w+),", text, re.M)
    if not names:
        raise SystemExit(f"{TARGET_C}: no {prefix}* enum: has it changed?")
    return {name: i for i, name in enumerate(names)}


def _props(text):
    """[(name, [value or None, ...]), ...] of dmatd_fz_props[], in order."""
    block = text[text.index("dmatd_fz_props[] = {"):]
    block = block[:block.index("\n};")]
    props = []
    for name, values in re.findall(r'\{ "([\w-]+)", \{ ([^}]*) \} \}', block):
        vals = [None if v.strip() == "NULL" else v.strip().strip('"')
                for v in values.split(",")]
        props.append((name, vals))
    return props


_TEXT = _read(TARGET_C)
OP = _enum(_TEXT, "DMATD_FZ_OP_")
AT = _enum(_TEXT, "DMATD_FZ_AT_")
PROPS = _props(_TEXT)
D = Consts(ROOT)
WHO_DEV, WHO_ROOT_PORT, WHO_MCH = 0, 1, 2
LEN = {1: 0, 2: 1, 4: 2}
PCI_EXP_DEVCTL_FLR = 0x8000
ECAM_ON = 0xb0000001


class Seed:
    """One input: properties, program, edits."""

    def __init__(self, doc, **props):
        self.doc = " ".join(doc.split())
        self.props = bytearray(len(PROPS))
        for i, (name, values) in enumerate(PROPS):
            key = name.replace("-", "_")
            if key in props:
                self.props[i] = values.index(str(props.pop(key)))
        if props:
            raise SystemExit(f"unknown properties {sorted(props)}")
        self.prog = bytearray()
        self.edits = bytearray()

    def _op(self, name, fmt, *args):
        self.prog += bytes([OP[name]]) + struct.pack("<" + fmt, *args)
        return self

    def reg(self, offset, value):
        """Write @value to the register at @offset."""
        return self._op("REG", "BI", offset // 4, value)

    def lists(self, src, dst):
        """Segment lists: each segment (address class, offset, length)."""
        self._op("LISTS", "BB", len(src), len(dst))
        for cls, off, length in src + dst:
            self.prog += struct.pack("<BHH", AT[cls], off, length - 1)
        return self

    def cmd(self, opcode):
        """Start a register command."""
        return self._op("CMD", "B", getattr(D, "OP_" + opcode))

    def queue(self, size, ops, flags=1):
        """Enable a queue of @size with one entry per opcode in @ops."""
        self._op("QUEUE", "BB", size, len(ops))
        for opcode in ops:
            self.prog += bytes([getattr(D, "OP_" + opcode), flags])
        return self

    def clock(self, units):
        """Step the virtual clock by 64 ns * @units (1 .. 65536)."""
        return self._op("CLOCK", "H", units - 1)

    def config(self, who, offset, value, size):
        """Config write to the device, its root port or the MCH."""
        return self._op("CONFIG", "BBBI", who, offset, LEN[size], value)

    def epf(self, command, route, size, irq=(1, 0, 0)):
        """An epf-test transfer: @route is ((class, offset) of the
        source, (class, offset) of the destination), @irq is (IRQ_TYPE,
        IRQ_NUMBER, FLAGS)."""
        (src_cls, src), (dst_cls, dst) = route
        return self._op("EPF", "BBBBBHBHI", command, *irq, AT[src_cls], src,
                        AT[dst_cls], dst, size)

    def log(self, first):
        """Read the DMA log from sequence number @first."""
        return self._op("LOG", "H", first)

    def reset(self):
        """Cold reset of the device."""
        return self._op("RESET", "")

    def save(self, edits=()):
        """End the program; then put each (offset, byte) into the stream."""
        self._op("SAVE", "")
        for off, val in edits:
            self.edits += struct.pack("<HB", off, val)
        return self

    def encode(self):
        """The input file's bytes."""
        return bytes(self.props + self.prog + self.edits)


RAM_SEGS = [("RAM_A", 0, 4096), ("RAM_A", 8192, 100)]
RAM_DST = [("RAM_B", 0, 4096), ("RAM_B", 12288, 100)]
BIG_SRC = [("RAM_A", 0x1000 * i, 65536) for i in range(4)]
BIG_DST = [("RAM_B", 0x1000 * i, 65536) for i in range(4)]
PACED = {"latency_ns": 1000, "step_size": 4096}


def seeds():
    """Every seed, by name."""
    out = {}
    out["idle"] = Seed("Default properties, no command: the plain round "
                       "trip.").save()
    out["register-commands"] = (
        Seed("Register path: WRITE_PATTERN, VERIFY_PATTERN, COPY, FILL, "
             "then a bad opcode; a full log to migrate.")
        .lists(RAM_SEGS, RAM_DST).cmd("WRITE_PATTERN").cmd("VERIFY_PATTERN")
        .cmd("COPY").cmd("FILL").reg(D.REG_CMD, 9).save())
    for lanes in (4, 1):
        out[f"register-commands-lanes-{lanes}"] = (
            Seed(f"The register commands through the data path's "
                 f"{lanes}-word loops.", x_datapath_max_lanes=lanes)
            .lists(RAM_SEGS, RAM_DST).cmd("WRITE_PATTERN")
            .cmd("VERIFY_PATTERN").cmd("COPY").save())
    out["queue-in-flight"] = (
        Seed("Paced queue with four long commands, saved mid-command.",
             **PACED)
        .lists(BIG_SRC, BIG_DST)
        .queue(8, ["WRITE_PATTERN", "COPY", "VERIFY_PATTERN", "FILL"])
        .clock(40).save())
    out["queue-cq-full"] = (
        Seed("Queue of two entries with three commands: the CQ fills up.")
        .lists(RAM_SEGS, RAM_DST)
        .queue(2, ["FILL", "FILL", "FILL"]).clock(10).save())
    out["queue-error"] = (
        Seed("Queue halted by a doorbell past Q_SIZE.")
        .lists(RAM_SEGS, RAM_DST).queue(4, [])
        .reg(D.REG_SQ_TAIL, 7).save())
    out["unplug-mid-command"] = (
        Seed("Paced command still running when the device is unplugged "
             "and saved.", **PACED)
        .lists(BIG_SRC, BIG_DST).queue(4, ["COPY"]).save())
    out["own-flr"] = (
        Seed("A queued FILL whose segment is the device's own PCIe Device "
             "Control in ECAM: its own DMA resets it (the SIGFPE of "
             "issue 10).")
        .config(WHO_MCH, 0x60, ECAM_ON, 4)
        .reg(D.REG_FILL_LO, PCI_EXP_DEVCTL_FLR)
        .lists([], [("ECAM_DEV", D.PCIE_CAP_OFFSET + 8, 2)])
        .queue(4, ["FILL"]).clock(10).save())
    out["bus-reset"] = (
        Seed("Secondary Bus Reset through the root port's Bridge Control "
             "by the device's own DMA.", **PACED)
        .config(WHO_MCH, 0x60, ECAM_ON, 4)
        .reg(D.REG_FILL_LO, 0x40)
        .lists([], [("ECAM_RP", 0x3e, 2)])
        .queue(4, ["FILL"]).clock(10).save())
    out["msix-commands"] = (
        Seed("MSI-X on, queue completions with interrupts.")
        .config(WHO_DEV, 0x40 + 2, 0x8000, 2)
        .lists(RAM_SEGS, RAM_DST).queue(4, ["WRITE_PATTERN", "FILL"])
        .clock(10).save())
    out["log-pages"] = (
        Seed("One-entry pages of a four-entry log, read from several "
             "places.", dma_log_page=1, dma_log_size=4)
        .lists(RAM_SEGS, RAM_DST).cmd("WRITE_PATTERN").cmd("COPY")
        .log(0).log(2).log(5).log(60000).save())
    out["epf-transfer"] = (
        Seed("epf-test COPY of 1 MiB, saved between steps.",
             personality="epf-test", latency_ns=1000)
        .epf(D.EPF_CMD_COPY, (("RAM_A", 0), ("RAM_B", 0)), 1 << 20)
        .clock(2).save())
    out["epf-own-flr"] = (
        Seed("epf-test WRITE into its own Device Control: FLR by its own "
             "DMA.", personality="epf-test")
        .config(WHO_MCH, 0x60, ECAM_ON, 4)
        .epf(D.EPF_CMD_WRITE,
             (("RAM_A", 0), ("ECAM_DEV", D.PCIE_CAP_OFFSET + 8)), 2)
        .clock(10).save())
    out["edited-stream"] = (
        Seed("The in-flight queue state with a few bytes of the stream "
             "changed.", **PACED)
        .lists(BIG_SRC, BIG_DST).queue(8, ["COPY", "FILL"]).clock(20)
        .save([(o, 0xff) for o in (100, 300, 600, 900, 1200)]))
    for name, values in PROPS:
        for value in values[1:]:
            if value is not None:
                out[f"property-{name}-{value}"] = Seed(
                    f"{name}={value} alone (realize refuses some)",
                    **{name.replace("-", "_"): value}).save()
    return out


def main():
    """Command line."""
    parser = argparse.ArgumentParser(
        description="Write dma-testdev-state seed inputs.")
    parser.add_argument("dir", nargs="?", help="directory for the seeds")
    parser.add_argument("--list", action="store_true",
                        help="list every seed and what it exercises")
    args = parser.parse_args()
    if args.list:
        for name, seed in seeds().items():
            print(f"{name} ({len(seed.encode())} bytes): {seed.doc}")
        return 0
    if not args.dir:
        parser.error("no directory given")
    os.makedirs(args.dir, exist_ok=True)
    for name, seed in seeds().items():
        with open(os.path.join(args.dir, "seed-" + name), "wb") as out:
            out.write(seed.encode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
