#!/bin/bash
# t3100-boot.sh - kiln boot's control of QEMU, offline: a stand-in for
# qemu-system-x86_64 (KILN_QEMU) that fails under KVM the ways real hosts
# do, or runs a "guest" that prints kiln-init's lines. Real boots are in
# qemu-tests/ (make qemu-check).
. "$(dirname "$0")/../lib/test-lib.sh"

S=$T/store
V=$S/app/2026.01.0
mkdir -p "$V"
echo kernel > "$V/vmlinuz"
echo initrd > "$V/initrd.img"
echo '{"kernel": {"cmdline": "console=ttyS0"}}' > "$V/manifest.json"

# The stand-in: FAKE_KVM=abort|internal|silent|exit decides what -accel kvm
# does; under TCG it prints the banner, sleeps FAKE_SLEEP seconds and reports
# exit status FAKE_STATUS. Each run appends its accelerator to $T/runs and
# writes its pid to $T/qemu.pid.
cat > "$T/qemu" <<'EOF'
#!/bin/bash
accel=
while [ $# -gt 0 ]; do [ "$1" = -accel ] && accel=$2; shift; done
echo "$accel" >> "$FAKE_DIR/runs"
echo $$ > "$FAKE_DIR/qemu.pid"
if [ "$accel" = kvm ]; then
	case ${FAKE_KVM:-abort} in
	abort)
		echo "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69" >&2
		echo "qemu-system-x86_64: ../../target/i386/kvm/kvm.c:3183: kvm_buf_set_msrs: Assertion \`ret == cpu->kvm_msr_buf->nmsrs' failed." >&2
		kill -ABRT $$ ;;
	internal)
		echo "KVM internal error. Suberror: 1"; echo "emulation failure"; exec sleep 1000 ;;
	silent) exec sleep 1000 ;;
	exit) exit 1 ;;
	ok) ;;
	esac
fi
echo "[    0.000000] Linux version 6.1.0"
echo "kiln-init: app 2026.01.0 starting /usr/bin/app"
[ "${FAKE_SLEEP:-0}" -gt 0 ] && exec sleep "$FAKE_SLEEP"
echo "kiln-init: /usr/bin/app exited; exit status ${FAKE_STATUS:-0}"
EOF
chmod +x "$T/qemu"
export KILN_QEMU=$T/qemu FAKE_DIR=$T
[ -e /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] && have_kvm=1 || have_kvm=0

runs() { tr '\n' ' ' < "$T/runs" | sed 's/ $//'; }
fresh() { rm -f "$T/runs" "$T/qemu.pid" "$S/cache/kvm-failed"; }

# TCG: the guest's status is kiln boot's
fresh
FAKE_STATUS=3 expect 3 "boot --accel tcg exits with the status kiln-init reports" -- \
	"$KILN" boot app/2026.01.0 --store "$S" --accel tcg
check "the console is on stdout" -- grep -q '^kiln-init: app 2026.01.0 starting' "$T/out"
check "one run, under TCG" -- test "$(runs)" = tcg

# --accel kvm fails loudly with what QEMU said, and does not fall back
fresh
FAKE_KVM=abort expect 1 "boot --accel kvm fails when KVM aborts" -- "$KILN" boot app/2026.01.0 --store "$S" --accel kvm
err_has "KVM failed to run the guest: qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69 (--accel tcg avoids it)"
check "no TCG run after --accel kvm" -- test "$(runs)" = kvm
check "--accel kvm remembers nothing" -- test ! -e "$S/cache/kvm-failed"
fresh
FAKE_KVM=internal expect 1 "boot --accel kvm fails on a KVM internal error instead of hanging" -- \
	timeout 20 "$KILN" boot app/2026.01.0 --store "$S" --accel kvm
err_has "KVM failed to run the guest: KVM internal error"

if [ "$have_kvm" = 1 ]; then
	# --accel auto: every way KVM fails before kiln-init's banner falls back once, and is remembered
	for how in abort internal exit; do
		fresh
		FAKE_KVM=$how FAKE_STATUS=7 expect 7 "auto: KVM that fails ($how) falls back to TCG" -- \
			timeout 20 "$KILN" boot app/2026.01.0 --store "$S"
		check "auto ($how): one KVM run, then one TCG run" -- test "$(runs)" = "kvm tcg"
		check "auto ($how): kiln boot says why it fell back" -- grep -q '^kiln boot: KVM failed before the guest started' "$T/err"
		check "auto ($how): the failure is remembered in the store" -- test -s "$S/cache/kvm-failed"
	done
	FAKE_STATUS=0 expect 0 "auto: a remembered failure goes straight to TCG" -- "$KILN" boot app/2026.01.0 --store "$S"
	check "auto after the failure: TCG only" -- test "$(runs)" = "kvm tcg tcg"
	fresh
	FAKE_KVM=ok FAKE_STATUS=0 expect 0 "auto: working KVM is used" -- "$KILN" boot app/2026.01.0 --store "$S"
	check "auto with working KVM: one KVM run" -- test "$(runs)" = kvm
else
	fresh
	FAKE_STATUS=0 expect 0 "auto without a usable /dev/kvm uses TCG" -- "$KILN" boot app/2026.01.0 --store "$S"
	check "auto without /dev/kvm: TCG only" -- test "$(runs)" = tcg
fi

# A guest that ends without a report is an error naming what QEMU said
fresh
cat > "$T/qemu-dies" <<'EOF'
#!/bin/bash
echo "qemu-system-x86_64: -kernel: could not load kernel" >&2
exit 1
EOF
chmod +x "$T/qemu-dies"
KILN_QEMU=$T/qemu-dies expect 1 "a QEMU that ends at once is reported" -- "$KILN" boot app/2026.01.0 --store "$S" --accel tcg
err_has "the guest ended without kiln-init reporting an exit status (QEMU: qemu-system-x86_64: -kernel: could not load kernel)"

# Stopped however it stops, kiln boot leaves no QEMU behind
gone() {	# PID: not running (a zombie whose parent died counts as gone)
	local i
	for i in $(seq 50); do
		{ kill -0 "$1" 2>/dev/null && [ "$(ps -o stat= -p "$1" | cut -c1)" != Z ]; } || return 0
		sleep 0.1
	done
	return 1
}
for sig in TERM INT HUP KILL; do
	fresh
	FAKE_SLEEP=1000 "$KILN" boot app/2026.01.0 --store "$S" --accel tcg > "$T/out" 2> "$T/err" &
	pid=$!
	for _ in $(seq 100); do [ -s "$T/qemu.pid" ] && grep -q starting "$T/out" && break; sleep 0.1; done
	q=$(cat "$T/qemu.pid" 2>/dev/null)
	kill -s "$sig" "$pid"
	{ wait "$pid"; } 2>/dev/null; rc=$?
	if [ -n "$q" ] && gone "$q"; then
		ok "SIG$sig to kiln boot ends its QEMU"
	else
		not_ok "SIG$sig to kiln boot left QEMU ($q) running"; kill -9 "$q" 2>/dev/null
	fi
	if [ "$sig" != KILL ]; then
		check "SIG$sig: kiln boot exits 1 and says the guest was shut down" -- \
			test "$rc" -eq 1 -a "$(cat "$T/err")" = "kiln boot: stopped by signal $(kill -l "$sig"); the guest was shut down"
	fi
done

# usage errors
expect 2 "a bad --accel is a usage error" -- "$KILN" boot app/2026.01.0 --store "$S" --accel xen
expect 2 "an image that is not built is a usage error" -- "$KILN" boot app/2099.01.0 --store "$S"
test_done
