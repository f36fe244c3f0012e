#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Check the documents against the contract header, both ways.

Usage: check_docs.py [--self-test] [ROOT]

ROOT is the checkout (default: two levels above this file).  Reads
include/hw/misc/dma-testdev.h and checks, in docs/specs/dma-testdev.rst
and docs/system/devices/dma-testdev.rst:

* every DMATD_*, DMA_TESTDEV_* and dmatd_*() name the documents write
  exists (in the header, or for functions in the qtests' libqos header);
* the register map names every DMATD_REG_* of the header at its offset,
  and nothing else; a 64-bit register is one row at its _LO offset;
* the epf-test register map the same for the DMATD_EPF_* registers;
* the tables of operations, command errors (with their log names), queue
  errors, guest programming errors and of the STATUS, Q_STATUS and
  interrupt bits hold exactly the values the header gives them;
* the epf-test command and STATUS bits, and the offsets and sizes of the
  submission and completion entry fields, match the header.

Prints one line per finding and exits 1 if there is any.  --self-test
is the negative control: it plants one error of each kind in a copy of
the documents' text and fails unless every one is found.
"""

import os
import re
import sys

HEADER = "include/hw/misc/dma-testdev.h"
LIBQOS = "tests/qtest/libqos/dma-testdev.h"
SPEC = "docs/specs/dma-testdev.rst"
USAGE = "docs/system/devices/dma-testdev.rst"

ENUM = re.compile(r"^\s*((?:DMATD|DMA_TESTDEV)_\w+)\s*=\s*"
                  r"(0x[0-9a-fA-F]+|\d+)", re.M)
ALIAS = re.compile(r"^\s*(DMATD_\w+)\s*=\s*(DMATD_\w+)\s*,", re.M)
DEFINE = re.compile(r"^#define\s+((?:DMATD|DMA_TESTDEV)_\w+)(\(\w*\))?"
                    r"[ \t]*(\S.*)?$", re.M)
BIT = re.compile(r"^\(1u\s*<<\s*(\d+)\)")
NUMBER = re.compile(r"^(0x[0-9a-fA-F]+|\d+)(?:ULL|u)?\b")
FUNC = re.compile(r"\b(dmatd_\w+)\s*\(")
CASE = re.compile(r'case\s+(DMATD_\w+):\s*return\s+"([^"]+)"')
STRUCT = re.compile(r"struct (dma_testdev_\w+) \{(.*?)\};", re.S)
MEMBER = re.compile(r"uint(8|16|32|64)_t\s+(\w+);")
TOKEN = re.compile(r"``((?:DMATD|DMA_TESTDEV)_\w+?)(\*|\([^`]*\))?``")
FUNC_TOKEN = re.compile(r"``(dmatd_\w+)\(\)``")


class Header:
    """The names and values of the contract header."""

    def __init__(self, text):
        self.values = {}
        self.names = set()
        for name, value in ENUM.findall(text):
            self.values[name] = int(value, 0)
        for name, other in ALIAS.findall(text):
            self.values[name] = self.values.get(other)
        for name, args, body in DEFINE.findall(text):
            self.names.add(name)
            if args:
                continue
            body = (body or "").strip()
            bit = BIT.match(body)
            num = NUMBER.match(body)
            if bit:
                self.values[name] = 1 << int(bit.group(1))
            elif num:
                self.values[name] = int(num.group(1), 0)
        self.names |= set(self.values)
        self.prefixes = {n[:i + 1] for n in self.names
                         for i, ch in enumerate(n) if ch == "_"}
        self.functions = set(FUNC.findall(text))
        self.log_names = dict(CASE.findall(text))
        self.structs = {}
        for name, body in STRUCT.findall(text):
            fields, off = [], 0
            for bits, field in MEMBER.findall(body):
                size = int(bits) // 8
                fields.append((off, size, field))
                off += size
            self.structs[name] = fields

    def defines(self, name):
        """Whether @name, or a prefix ending in _ or *, is defined."""
        if name.endswith("*"):
            name = name[:-1]
        if name.endswith("_"):
            return name in self.prefixes
        return name in self.names

    def family(self, prefix, skip=(), below=None):
        """{name: value} of the names that start with @prefix, but not
        with @prefix + any of @skip, and whose value is below @below."""
        return {k: v for k, v in self.values.items()
                if k.startswith(prefix) and v is not None
                and not k.endswith("_MAX")
                and not any(k.startswith(prefix + s) for s in skip)
                and (below is None or v < below)}


def section(text, title):
    """The body of the section titled @title, up to the next heading."""
    lines = text.split("\n")
    for i, line in enumerate(lines[:-1]):
        under = lines[i + 1]
        if line == title and under and set(under) <= set("-~=") and \
                len(under) == len(title):
            body = []
            for j in range(i + 2, len(lines) - 1):
                nxt = lines[j + 1]
                if lines[j] and nxt and set(nxt) <= set("-~=") and \
                        len(nxt) == len(lines[j]) and \
                        not set(lines[j]) <= set("=- "):
                    break
                body.append(lines[j])
            return "\n".join(body)
    return None


def rows(body, pattern):
    """(key, name[, more]) of the table rows in @body matching @pattern."""
    return re.findall(pattern, body, re.M)


class Checker:
    """Collects findings."""

    def __init__(self, texts):
        self.findings = []
        self.hdr = Header(texts[HEADER])
        self.libqos = set(FUNC.findall(texts[LIBQOS]))
        self.spec = texts[SPEC]
        self.usage = texts[USAGE]

    def bad(self, where, msg):
        """Record one finding."""
        self.findings.append("%s: %s" % (where, msg))

    def part(self, title):
        """The spec's section @title; a finding if it is missing."""
        body = section(self.spec, title)
        if body is None:
            self.bad(SPEC, "no section %r" % title)
            return ""
        return body

    def names(self):
        """Every name the documents write exists."""
        for path, text in ((SPEC, self.spec), (USAGE, self.usage)):
            for name, tail in TOKEN.findall(text):
                if not self.hdr.defines(name + ("*" if tail == "*" else "")):
                    self.bad(path, "%s%s is not in %s"
                             % (name, tail if tail == "*" else "", HEADER))
            for name in FUNC_TOKEN.findall(text):
                if name not in self.hdr.functions | self.libqos:
                    self.bad(path, "%s() is in neither %s nor %s"
                             % (name, HEADER, LIBQOS))

    def regmap(self, title, prefix, pattern, skip=(), below=None):
        """A register map: every row at its header offset, both ways."""
        want = self.hdr.family(prefix, skip, below)
        seen = set()
        for off, name in rows(self.part(title), pattern):
            off = int(off, 16)
            low, high = prefix + name + "_LO", prefix + name + "_HI"
            if want.get(prefix + name) == off:
                seen.add(prefix + name)
            elif want.get(low) == off and want.get(high) == off + 4:
                seen |= {low, high}
            else:
                self.bad(SPEC, "%s: %s at 0x%x is not %s%s (or _LO/_HI) "
                         "there" % (title, name, off, prefix, name))
        for name in sorted(set(want) - seen):
            self.bad(SPEC, "%s: %s (0x%x) is missing"
                     % (title, name, want[name]))

    def codes(self, title, prefix, pattern, bits=False, log=False, skip=()):
        """A table of codes or bits, both ways; log names if @log."""
        want = self.hdr.family(prefix, skip)
        seen = set()
        for row in rows(self.part(title), pattern):
            key, name = row[0], row[1]
            full = name if name.startswith(prefix) else prefix + name
            value = 1 << int(key) if bits else int(key, 0)
            if want.get(full) != value:
                self.bad(SPEC, "%s: %s is %s in the header, %s here"
                         % (title, full, want.get(full), value))
            if log and self.hdr.log_names.get(full) != row[2]:
                self.bad(SPEC, "%s: log name of %s is %r in the header, "
                         "%r here" % (title, full,
                                      self.hdr.log_names.get(full), row[2]))
            seen.add(full)
        for name in sorted(set(want) - seen):
            self.bad(SPEC, "%s: %s (%d) is missing"
                     % (title, name, want[name]))

    def entries(self, title, struct):
        """The field table of a queue entry against its struct."""
        got = [(int(o), int(s), f) for o, s, f in
               rows(self.part(title), r"^(\d+)\s+(\d+)\s+``(\w+)``")]
        if got != self.hdr.structs.get(struct):
            self.bad(SPEC, "%s: fields %s, header struct %s has %s"
                     % (title, got, struct, self.hdr.structs.get(struct)))

    def epf_bits(self):
        """The epf-test COMMAND table and STATUS bits."""
        body = self.part("epf-test commands")
        cmds = self.hdr.family("DMATD_EPF_CMD_")
        got = {"DMATD_EPF_CMD_" + n: int(v, 16) for v, n in
               rows(body, r"^(0x[0-9a-f]+)\s+``(\w+)``")}
        if got != cmds:
            self.bad(SPEC, "epf-test commands: %s, header %s" % (got, cmds))
        status = self.hdr.family("DMATD_EPF_ST_")
        text = re.search(r"``STATUS`` bits:(.*?)\n\n", body, re.S)
        pairs = re.findall(r"(\d+)\s+``(\w+)``", text.group(1)) if text else []
        got = {"DMATD_EPF_ST_" + n: 1 << int(b) for b, n in pairs}
        if got != status:
            self.bad(SPEC, "epf-test STATUS bits: %s, header %s"
                     % (got, status))

    def run(self):
        """All the checks; returns the findings."""
        self.names()
        self.regmap("Register map", "DMATD_REG_",
                    r"^(0x[0-9a-f]{3})\s+``(\w+)``")
        self.regmap("epf-test registers", "DMATD_EPF_",
                    r"^(0x[0-9a-f]{2})\s+``(\w+)``",
                    skip=("CMD_", "ST_", "IRQ_INTX", "IRQ_MSI", "FLAG_"),
                    below=0x40)
        self.codes("Operations", "DMATD_OP_", r"^(\d+)\s+``(DMATD_OP_\w+)``")
        self.codes("Command errors", "DMATD_ERR_",
                   r"^(\d+)\s+``(\w+)``\s+([\w-]+)", log=True)
        self.codes("Queue errors", "DMATD_QERR_",
                   r"^(\d+)\s+``(\w+)``\s+([\w-]+)", log=True)
        self.codes("Guest programming errors", "DMATD_BAD_",
                   r"^(\d+)\s+``(DMATD_BAD_(?!INFO)\w+)``", skip=("INFO",))
        self.codes("STATUS register", "DMATD_STATUS_",
                   r"^(\d+)\s+``(DMATD_STATUS_\w+)``", bits=True)
        self.codes("Q_STATUS", "DMATD_QSTATUS_",
                   r"^(\d+)\s+``(DMATD_QSTATUS_\w+)``", bits=True)
        self.codes("Causes", "DMATD_INTR_",
                   r"^(\d+)\s+``(DMATD_INTR_(?!INFO|MODE)\w+)``", bits=True,
                   skip=("INFO", "MODE"))
        self.entries("Submission queue entry", "dma_testdev_sqe")
        self.entries("Completion queue entry", "dma_testdev_cqe")
        self.epf_bits()
        return self.findings


def read(root):
    """{path: text} of the files the checks read."""
    texts = {}
    for path in (HEADER, LIBQOS, SPEC, USAGE):
        with open(os.path.join(root, path), encoding="utf-8") as src:
            texts[path] = src.read()
    return texts


# Negative controls: (what, file, regular expression, replacement).
PLANTED = (
    ("a register at the wrong offset", SPEC,
     r"^0x0fc(\s+``Q_MAX_SIZE``)", r"0x0f8\1"),
    ("a register missing from the map", SPEC,
     r"^0x114\s+``BAD_INFO``.*\n(?:\s{10,}.*\n)*", ""),
    ("a 64-bit register at the offset of its _HI half", SPEC,
     r"^0x0a8(\s+``CMD_SEQ``)", r"0x0ac\1"),
    ("an epf-test register missing", SPEC,
     r"^0x3c\s+``DB_DATA``.*\n", ""),
    ("a wrong error code", SPEC,
     r"^16(\s+``BAD_VECTOR``)", r"17\1"),
    ("a wrong log name", SPEC, r"ring-align", "ring-alignment"),
    ("a wrong status bit", SPEC,
     r"^3(\s+``DMATD_QSTATUS_CQ_FULL``)", r"4\1"),
    ("an operation missing", SPEC,
     r"^4\s+``DMATD_OP_FILL``.*\n(?:\s{10,}.*\n)*", ""),
    ("a queue entry field at the wrong offset", SPEC,
     r"^56(\s+8\s+``tag``)", r"48\1"),
    ("a wrong epf-test command", SPEC, r"^0x20(\s+``COPY``)", r"0x40\1"),
    ("a wrong epf-test STATUS bit", SPEC, r"8 ``DST_INVALID``",
     "9 ``DST_INVALID``"),
    ("a name the header does not define", USAGE,
     r"``DMATD_SQE_F_INTR``", "``DMATD_SQE_F_INTERRUPT``"),
    ("a function nobody defines", USAGE, r"``dmatd_log_read\(\)``",
     "``dmatd_log_fetch()``"),
    ("a name removed from the header", HEADER,
     r"#define DMATD_CAP_QUEUE\b", "#define DMATD_CAP_QUEUES"),
)


def self_test(root):
    """Each planted error must be found; returns the number missed."""
    texts = read(root)
    missed = 0
    for what, path, pattern, repl in PLANTED:
        planted = dict(texts)
        planted[path], count = re.subn(pattern, repl, texts[path], count=1,
                                       flags=re.M)
        findings = Checker(planted).run() if count else []
        verdict = "found" if findings else "MISSED"
        if not count:
            verdict = "NOT PLANTED (the documents changed?)"
        if verdict != "found":
            missed += 1
        detail = " (%s)" % findings[0] if findings else ""
        print("# self-test: %s: %s%s" % (what, verdict, detail))
    return missed


def main():
    """Run the checks on the checkout."""
    args = sys.argv[1:]
    test = bool(args) and args[0] == "--self-test"
    if test:
        args = args[1:]
    root = args[0] if args else \
        os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
    if test:
        return 1 if self_test(root) else 0
    findings = Checker(read(root)).run()
    for line in findings:
        print(line)
    print("# check-docs: %d findings" % len(findings))
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
