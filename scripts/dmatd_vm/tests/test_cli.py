# SPDX-License-Identifier: GPL-2.0-or-later
"""Tests of dmatd_vm.cli and the QEMU command line of dmatd_vm.machine."""

import contextlib
import io
import os
import tempfile
from typing import List
import unittest

from dmatd_vm import cli, machine


def bad(argv: List[str]) -> str:
    """Parse ARGV expecting exit status 2; return the message."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        with unittest.TestCase().assertRaises(SystemExit) as cm:
            cli.parse_args(argv)
    assert cm.exception.code == 2, cm.exception.code
    return err.getvalue()


class OptionsTest(unittest.TestCase):
    """Options and their checks."""

    def test_defaults(self) -> None:
        """1 GiB, RAM/32 hugepages, 600 s."""
        a = cli.parse_args(['--accel', 'tcg'])
        self.assertEqual((a.mem, a.hugepages, a.timeout, a.net),
                         (1024, 32, 600, False))

    def test_values(self) -> None:
        """Sizes, the implied --net, later options win."""
        a = cli.parse_args(['--mem', '3G', '--ssh-port', '2222', '--qemu',
                            'src', '--qemu', '/bin/q', '--dt-prop', 'a=1'])
        self.assertEqual((a.mem, a.hugepages, a.net, a.qemu, a.dt_prop),
                         (3072, 96, True, '/bin/q', ['a=1']))
        self.assertEqual(cli.parse_args(['--mem', '768M']).mem, 768)

    def test_bad(self) -> None:
        """Every bad option: exit 2 and a message that names it."""
        for argv, word in ((['--bogus'], '--bogus'),
                           (['--mem', '3'], '--mem'),
                           (['--mem', '255M'], '--mem'),
                           (['--accel', 'xen'], '--accel'),
                           (['--timeout', '1.5'], '--timeout'),
                           (['--ssh-port', '70000'], '--ssh-port'),
                           (['--run', 'echo "x"'], '--run'),
                           (['--shell', '--run', 'ls'], '--shell'),
                           (['--shell', '--json', '-'], '--json'),
                           (['--dt-prop', 'novalue'], '--dt-prop'),
                           (['--append', 'a="b'], '--append'),
                           (['--append', 'dt.run=x'], '--append'),
                           (['--append', 'a=1 dt.rootfs=host'], '--append'),
                           (['--append', 'hugepages=4'], '--append'),
                           (['--append', 'console=tty0'], '--append'),
                           (['--timeout'], '--timeout'),
                           (['--rootfs', 'nfs'], '--rootfs'),
                           (['--rootfs', 'host', '--tools-dir', '/a b'],
                            '--tools-dir'),
                           (['positional'], 'positional')):
            self.assertIn(word, bad(argv), argv)

    def test_build_vars(self) -> None:
        """What scripts/vm.sh's build stages read."""
        a = cli.parse_args(['--kernel', '/k', '--accel', 'kvm'])
        self.assertEqual(cli.build_vars(a),
                         'kernel=/k\nqemu=\naccel=kvm\ncpu=\n'
                         'rootfs=initramfs\n')


class CommandLineTest(unittest.TestCase):
    """The QEMU command line."""

    def test_args(self) -> None:
        """NUMA split, the device and its properties, the guest command."""
        a = cli.parse_args(['--mem', '1025M', '--dt-prop',
                            'x-misdirect-offset=0', '--device', 'foo',
                            '--kernel', 'bz', '--initrd', 'rd', '--accel',
                            'tcg', '--cpu', 'max', '--run', 'dt-pin -x'])
        args = machine.qemu_args(a)
        self.assertIn('memory-backend-ram,id=m0,size=512M', args)
        self.assertIn('memory-backend-ram,id=m1,size=513M', args)
        self.assertIn('dma-testdev,id=dt0,bus=rp0,x-misdirect-offset=0',
                      args)
        self.assertEqual(args[args.index('foo') - 1], '-device')
        append = args[args.index('-append') + 1]
        self.assertTrue(append.endswith(' dt.run="dt-pin -x"'), append)
        self.assertNotIn('-netdev', args)

    def test_append(self) -> None:
        """loglevel=5 by default; --append comes after it, before dt.run."""
        a = cli.parse_args(['--kernel', 'bz', '--initrd', 'rd'])
        line = machine.kernel_cmdline(a)
        self.assertIn(' loglevel=5 ', line)
        a = cli.parse_args(['--append', ' loglevel=8 ', '--append',
                            'a="b c"', '--kernel', 'bz', '--run', 'true'])
        line = machine.kernel_cmdline(a)
        self.assertLess(line.index('loglevel=5'), line.index('loglevel=8'))
        self.assertTrue(line.endswith(' loglevel=8 a="b c" dt.run="true"'),
                        line)

    def test_net_shell(self) -> None:
        """Port forward on the loopback only; the shell gets dt.shell=1."""
        a = cli.parse_args(['--ssh-port', '2222', '--shell', '--kernel',
                            'bz', '--initrd', 'rd', '--accel', 'tcg'])
        args = machine.qemu_args(a)
        self.assertIn('user,id=n0,hostfwd=tcp:127.0.0.1:2222-:22', args)
        self.assertTrue(machine.kernel_cmdline(a).endswith(' dt.shell=1'))

    def test_rootfs_host(self) -> None:
        """The host's / over 9p, read-only; tools and cwd for the guest."""
        a = cli.parse_args(['--rootfs', 'host', '--tools-dir', '/b/guest',
                            '--kernel', 'bz', '--initrd', 'rd', '--accel',
                            'tcg', '--run', 'dt-dpdk'])
        args = machine.qemu_args(a)
        fsdev = args[args.index('-fsdev') + 1]
        self.assertIn('path=/,', fsdev)
        self.assertIn('readonly=on', fsdev)
        self.assertIn('virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot', args)
        append = machine.kernel_cmdline(a)
        self.assertIn(' dt.rootfs=host dt.cwd=%s dt.path=/b/guest '
                      % os.getcwd(), append)
        self.assertTrue(append.endswith(' dt.run="dt-dpdk"'), append)
        a = cli.parse_args(['--kernel', 'bz', '--initrd', 'rd'])
        self.assertNotIn('-fsdev', machine.qemu_args(a))
        self.assertNotIn('dt.rootfs', machine.kernel_cmdline(a))


if __name__ == '__main__':
    unittest.main()


class CheckQemuTest(unittest.TestCase):
    """What check_qemu() asks of the binary before it starts a guest."""

    def test_device_missing(self) -> None:
        """A --device this QEMU lacks: a message naming the way out."""
        with tempfile.TemporaryDirectory() as tmp:
            qemu = os.path.join(tmp, 'qemu')
            with open(qemu, 'w', encoding='utf-8') as f:
                f.write('#!/bin/sh\n'
                        'echo \'name "dma-testdev", bus PCI\'\n'
                        'echo \'name "igb", bus PCI\'\n')
            os.chmod(qemu, 0o755)
            for name in ('bz', 'rd'):
                with open(os.path.join(tmp, name), 'w', encoding='utf-8'):
                    pass
            common = ['--qemu', qemu, '--kernel', os.path.join(tmp, 'bz'),
                      '--initrd', os.path.join(tmp, 'rd'), '--accel', 'tcg']
            a = cli.parse_args(common + ['--device', 'igb,bus=rp0'])
            machine.check_qemu(a)
            a = cli.parse_args(common + ['--device', 'e1000,netdev=n0'])
            with self.assertRaises(machine.VmError) as cm:
                machine.check_qemu(a)
            self.assertIn('no device "e1000"', str(cm.exception))
            self.assertIn('DMA_TESTDEV_QEMU_DEVICES=default',
                          str(cm.exception))
