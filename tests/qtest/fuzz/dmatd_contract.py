# SPDX-License-Identifier: GPL-2.0-or-later
"""The DMATD_* constants of dma-testdev's sources, read at run time.

Shared by the seed generators in this directory, so that a register,
opcode or limit is written once, in C: a name that disappears from the
sources stops the generator instead of producing stale seeds.
"""

import os
import re

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..",
                                     ".."))
SOURCES = ("include/hw/misc/dma-testdev.h", "hw/misc/dma-testdev-internal.h",
           "hw/misc/dma-testdev-epf.c")


class Consts:
    """The DMATD_* constants of the device's sources, as attributes."""

    ENUM_RE = re.compile(r"^\s*(DMATD_\w+)\s*=\s*(0x[0-9a-fA-F]+|\d+)\s*,",
                         re.M)
    BIT_RE = re.compile(r"^#define\s+(DMATD_\w+)\s+\(1u\s*<<\s*(\d+)\)", re.M)
    NUM_RE = re.compile(r"^#define\s+(DMATD_\w+)\s+(0x[0-9a-fA-F]+|\d+)\b",
                        re.M)
    ALIAS_RE = re.compile(r"^\s*(DMATD_\w+)\s*=\s*(DMATD_\w+)\s*,", re.M)

    def __init__(self, root):
        self._values = {}
        for rel in SOURCES:
            with open(os.path.join(root, rel), encoding="utf-8") as src:
                text = src.read()
            for name, value in self.ENUM_RE.findall(text):
                self._values[name] = int(value, 0)
            for name, shift in self.BIT_RE.findall(text):
                self._values[name] = 1 << int(shift)
            for name, value in self.NUM_RE.findall(text):
                self._values[name] = int(value, 0)
            for name, other in self.ALIAS_RE.findall(text):
                if other in self._values:
                    self._values[name] = self._values[other]

    def names(self, prefix):
        """{name: value} of the constants named DMATD_@prefix..."""
        return {k: v for k, v in self.__dict__["_values"].items()
                if k.startswith("DMATD_" + prefix)}

    def __getattr__(self, name):
        try:
            return self.__dict__["_values"]["DMATD_" + name]
        except KeyError:
            raise AttributeError(
                f"DMATD_{name} is not defined in {', '.join(SOURCES)}: has "
                "the register map changed?") from None
