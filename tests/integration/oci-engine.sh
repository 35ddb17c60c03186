# What the engine tests of unikd-oci share (podman.sh, containerd.sh),
# sourced after lib.sh: the runtime wrapper, podman with storage of its
# own under $T in a network namespace of the test's, and the test image.

# engine_needs PROGRAM...: skips (77) when one is missing.
engine_needs() {
	local p
	for p in "$@"; do
		command -v "$p" >/dev/null || {
			echo "SKIP: $(basename "$0") needs $p (contrib/deps.sh installs it)"
			exit 77
		}
	done
	[ -x "$top_builddir/unikd-oci" ] ||
	    fail "$top_builddir/unikd-oci is not built"
}

# Engines call the runtime without our flags in places (podman's
# cleanup, conmon's exit command) and with no environment: a wrapper
# names this test's socket, state and log. Flags the engine passes come
# after and win (the containerd shim's --root and --log).
OCI=$T/bin/unikd-oci
mkdir -p "$T/bin"
cat >"$OCI" <<EOF
#!/bin/sh
exec "$top_builddir/unikd-oci" --socket "$SOCK" --root "$T/oci" \\
    --log "$T/oci.log" --log-format json "\$@"
EOF
chmod 0755 "$OCI"

# podman_setup: namespace $NS (nsenter, as `ip netns exec` would remount
# /sys without the cgroup hierarchies) and pod(), podman there.
podman_setup() {
	NS=ukpod$$
	netns_add "$NS"
	ip -n "$NS" link set lo up
	P=$T/podman
	mkdir -p "$P/net" "$P/tmp"
	cat >"$P/containers.conf" <<EOF
[engine]
events_logger = "file"
cgroup_manager = "cgroupfs"
[network]
network_backend = "netavark"
network_config_dir = "$P/net"
EOF
	export CONTAINERS_CONF=$P/containers.conf
	CLEANUP_HOOKS+=("pod rm -af -t 0 >/dev/null 2>&1"
	    "grep -o \" $T/[^ ]*\" /proc/mounts | xargs -r umount -l")
}
pod() {
	nsenter --net="/run/netns/$NS" podman --root "$P/root" \
	    --runroot "$P/run" --storage-driver vfs --tmpdir "$P/tmp" \
	    --runtime "$OCI" "$@"
}

# podman_image: localhost/ukguest, FROM scratch with the test guest as
# its entrypoint /app.spt.
podman_image() {
	info "an image FROM scratch holding the guest"
	mkdir "$T/ctx"
	cp "$top_builddir/unik-testguest" "$T/ctx/app.spt"
	cat >"$T/ctx/Containerfile" <<'EOF'
FROM scratch
COPY app.spt /app.spt
ENTRYPOINT ["/app.spt"]
EOF
	pod build -q -t localhost/ukguest "$T/ctx" >/dev/null ||
	    fail "podman build"
}
