# SPDX-License-Identifier: GPL-2.0-or-later
"""python3 -m dmatd_vm (PYTHONPATH=scripts): see dmatd_vm.main."""

import sys

from .main import main


sys.exit(main())
