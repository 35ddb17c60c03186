#!/bin/sh
# Installs what unikd needs to build and to run its tests (Debian 12).
# qemu-system-x86, ipxe-qemu and ipxe (about 13 s to install) give
# tests/integration/qemu.sh a real tender and a bootable image.
# podman (with conmon, netavark, which needs iptables) and containerd
# (with runc) are the engines tests/integration/podman.sh and
# containerd.sh drive unikd-oci with.
set -eu
export DEBIAN_FRONTEND=noninteractive
pkgs="build-essential autoconf automake libtool pkg-config
      libevent-dev libjansson-dev libsqlite3-dev libinih-dev
      libcurl4-openssl-dev libcmocka-dev libnl-3-dev libnl-route-3-dev
      libsystemd-dev libnftables-dev
      curl iproute2 iputils-ping nftables procps python3 util-linux man-db
      qemu-system-x86 ipxe-qemu ipxe
      podman conmon netavark aardvark-dns iptables crun containerd runc"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
if [ -z "$missing" ]; then
	echo "deps.sh: every package unikd needs is installed"
else
	echo "deps.sh: will install (apt-get, no recommends):$missing"
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing
fi
