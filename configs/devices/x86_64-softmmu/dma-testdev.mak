# SPDX-License-Identifier: GPL-2.0-or-later
#
# The devices dma-testdev's QEMU is built with (scripts/build-qemu.sh
# configures --without-default-devices --with-devices-x86_64=dma-testdev).
# Copied into QEMU's configs/devices/x86_64-softmmu/ by
# scripts/overlay-qemu.sh.
#
# Only what the tests, the developer VM and the fuzz targets create, plus
# what the two machines create by default, so that a guest sees the same
# machine as with QEMU's default device set.  Everything a board needs
# comes from its Kconfig "select" lines.  DMA_TESTDEV_QEMU_DEVICES=default
# builds QEMU's full device set instead.

# The machines: q35 (every guest, most qtests) and pc (the qtests'
# conventional-PCI variant).
CONFIG_Q35=y
CONFIG_I440FX=y

# Created by both machines unless told otherwise (hpet=on, vmport=auto).
CONFIG_HPET=y
CONFIG_VMPORT=y
CONFIG_VMMOUSE=y

# The device under test, and the PCIe root ports the tests put it on.
CONFIG_DMA_TESTDEV=y
CONFIG_PCIE_PORT=y

# guest/vfio/igb: the stock igb driver on QEMU's 82576.  igb links
# against e1000x_common.c, which QEMU 10.0's hw/net/meson.build builds
# only for e1000 and e1000e: e1000e (q35's own NIC, implied by Q35) too.
CONFIG_IGB_PCI_EXPRESS=y
CONFIG_E1000E_PCI_EXPRESS=y

# The developer VM: the host's root over virtio-9p, user networking.
CONFIG_VIRTIO_PCI=y
CONFIG_VIRTIO_9P=y
CONFIG_VIRTIO_NET=y
