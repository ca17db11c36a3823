# libvirt-lib.sh - sourced by the tests and benchmarks that run real guests
# under libvirt: libvirt_up starts libvirtd (and virtlogd) when none answers
# on qemu:///system, makes an isolated network of the caller's own (no DHCP,
# no DNS: kiln gives each guest an address in it) and arranges that
# everything it started or made is undone at exit (kill by pid, network
# undefined, /dev/kvm's mode put back, the deployments deleted, STORE
# removed). The caller sets KILN and STORE (a directory of its own) first.
URI=qemu:///system
NET=kilnqc$$ BRIDGE=kilnqc$$ SUBNET=10.$((200 + $$ % 50)).$(($$ % 250)).
started=() kvm_mode= made_dnsmasq_dir=
chmod 755 "$STORE"	# QEMU runs as libvirt's user: it reads the images by path
export KILN_STORE=$STORE

libvirt_down() {
	local d
	for d in $("$KILN" deploy list --json 2> /dev/null | python3 -c 'import json,sys; [print(d["tenant"] + "/" + d["name"]) for d in json.load(sys.stdin)]' 2> /dev/null); do
		"$KILN" deploy delete "${d#*/}" --tenant "${d%/*}" --purge > /dev/null 2>&1
	done
	virsh -c $URI net-destroy $NET > /dev/null 2>&1; virsh -c $URI net-undefine $NET > /dev/null 2>&1
	for p in "${started[@]}"; do kill "$p" 2> /dev/null; done
	[ -n "$kvm_mode" ] && chmod "$kvm_mode" /dev/kvm && chgrp root /dev/kvm
	[ -n "$made_dnsmasq_dir" ] && rmdir /var/lib/libvirt/dnsmasq 2> /dev/null
	rm -rf "$STORE"
}

libvirt_up() {
	trap libvirt_down EXIT
	# Without udev, /dev/kvm keeps the kernel's root-only 0600, and libvirt then
	# finds KVM "enabled when probed but not available now" and probes QEMU again
	# on every call (40 s per define here). Debian's udev rule makes it
	# root:kvm 0660; so do we, for the run.
	if [ -c /dev/kvm ] && [ "$(stat -c %a /dev/kvm)" = 600 ] && getent group kvm > /dev/null; then
		kvm_mode=600; chgrp kvm /dev/kvm; chmod 660 /dev/kvm
	fi
	if ! virsh -c $URI version > /dev/null 2>&1; then
		virtlogd -d -p "$STORE/virtlogd.pid" && started+=("$(cat "$STORE/virtlogd.pid")")
		libvirtd -d -p "$STORE/libvirtd.pid" && started+=("$(cat "$STORE/libvirtd.pid")")
		for _ in $(seq 50); do virsh -c $URI version > /dev/null 2>&1 && break; sleep 0.2; done
	fi
	virsh -c $URI version > /dev/null 2>&1 || { echo "libvirtd does not answer on $URI"; return 1; }
	echo "# libvirt: $(virsh -c $URI version 2>&1 | grep -m1 'Running hypervisor')"
	# libvirt writes a network's MAC list under /var/lib/libvirt/dnsmasq when a
	# guest joins it, but makes that directory only when it starts dnsmasq,
	# which a network without DHCP and DNS never does: a fresh machine lacks it.
	if [ ! -d /var/lib/libvirt/dnsmasq ]; then
		mkdir -p /var/lib/libvirt/dnsmasq && made_dnsmasq_dir=1
	fi
	cat > "$STORE/net.xml" <<NET
<network><name>$NET</name><bridge name='$BRIDGE' stp='off'/><dns enable='no'/><ip address='${SUBNET}1' prefix='24'/></network>
NET
	virsh -c $URI net-define "$STORE/net.xml" > /dev/null && virsh -c $URI net-start $NET > /dev/null ||
		{ echo "cannot start the libvirt network $NET"; return 1; }
}
