# SPDX-License-Identifier: GPL-2.0-or-later
"""One QMP command through QEMU's own python/qemu library.

  PYTHONPATH=scripts python3 -m dmatd_vm.qmp --qemu BINARY SOCKET COMMAND \
      [JSON-ARGUMENTS]

prints the command's "return" as JSON; exit 1 when QEMU cannot be
reached, does not answer in time or answers with an error.  The library
comes from the source tree BINARY was built from (--qemu, via its build
tree), or from --qemu-python DIR.  scripts/lib/accel.sh asks a stuck
probe boot this way for its run state.
"""

import argparse
import asyncio
import json
import sys
from typing import Any, Dict, List, Optional

from .machine import VmError, import_qemu, python_dir_of


async def _ask(qmp_module: Any, sock: str, command: str,
               arguments: Optional[Dict[str, Any]], timeout: float) -> Any:
    qmp = qmp_module.QMPClient('dmatd_vm.qmp')
    try:
        await asyncio.wait_for(qmp.connect(sock), timeout)
        return await asyncio.wait_for(qmp.execute(command, arguments),
                                      timeout)
    finally:
        await qmp.disconnect()


def main(argv: Optional[List[str]] = None) -> int:
    """The program; returns the exit status."""
    p = argparse.ArgumentParser(prog='python3 -m dmatd_vm.qmp',
                                description=__doc__.split('\n', 1)[0])
    p.add_argument('--qemu', help='the QEMU binary (to find python/)')
    p.add_argument('--qemu-python', help="a QEMU source tree's python/")
    p.add_argument('--timeout', type=float, default=5,
                   help='seconds for connecting, and for the answer (5)')
    p.add_argument('socket')
    p.add_argument('command')
    p.add_argument('arguments', nargs='?', type=json.loads,
                   help='the arguments, a JSON object')
    args = p.parse_args(argv)
    try:
        import_qemu(args.qemu_python or python_dir_of(args.qemu))
    except VmError as e:
        sys.stderr.write('dmatd_vm.qmp: %s\n' % e)
        return 1
    qmp_module = sys.modules['qemu.qmp']
    try:
        ret = asyncio.run(_ask(qmp_module, args.socket, args.command,
                               args.arguments, args.timeout))
    except (qmp_module.QMPError, OSError, EOFError,
            asyncio.TimeoutError) as e:
        sys.stderr.write('dmatd_vm.qmp: %s\n' % (str(e) or type(e).__name__))
        return 1
    print(json.dumps(ret))
    return 0


if __name__ == '__main__':
    sys.exit(main())
