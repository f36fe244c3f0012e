# SPDX-License-Identifier: GPL-2.0-or-later
"""Unit tests of the developer VM's Python side (no QEMU needed)."""
