# SPDX-License-Identifier: GPL-2.0-or-later
"""The dma-testdev developer VM (scripts/vm.sh runs it after its builds).

Modules: cli (options), protocol (the guest console's "@dt" lines and
TAP, docs/guest-protocol.rst), machine (QEMU through QEMU's own
python/qemu library), report (text and JSON), main (the program).
"""
