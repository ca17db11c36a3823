#!/bin/bash
# boot-examples.sh - build the example recipes from the real archive (through
# the host's apt sources: needs the network) and boot each under QEMU (KVM
# when usable, TCG otherwise): the kiln-init banner must appear and the
# application must answer from the host through a forwarded port.
#   KILN=build/kiln qemu-tests/boot-examples.sh     (make qemu-check)
set -u
KILN=${KILN:-build/kiln}
TOP=$(cd "$(dirname "$0")/.." && pwd)
STORE=${KILN_QEMU_STORE:-$(mktemp -d)}
TIMEOUT=${KILN_BOOT_TIMEOUT:-300}
pass=0 fail=0
command -v qemu-system-x86_64 >/dev/null || { echo "qemu-system-x86_64 is missing: skipped"; exit 77; }
# The recipes come From=host: without the archive there is nothing to build.
if ! timeout 60 "$KILN" resolve "$TOP/recipes/httpd.recipe" --store "$STORE" > /dev/null 2> "$STORE/probe.err"; then
	if grep -q 'cannot fetch' "$STORE/probe.err"; then
		echo "the archive is not reachable: skipped ($(cat "$STORE/probe.err"))"; exit 77
	fi
fi

ok() { pass=$((pass + 1)); echo "ok - $*"; }
not_ok() { fail=$((fail + 1)); echo "not ok - $*"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# boot RECIPE GUESTPORT PROBE...: build, boot in the background, run PROBE PORT until it passes
# (BOOT_MEMORY: the guest's MiB)
boot() {
	local recipe=$1 gport=$2; shift 2
	local name; name=$(basename "$recipe" .recipe)
	local log=$STORE/$name.console port dir t0 t_banner="" t_ready=""
	if ! dir=$("$KILN" build "$recipe" --store "$STORE" 2> "$STORE/$name.build"); then
		not_ok "$name: kiln build failed: $(tail -1 "$STORE/$name.build")"; return
	fi
	ok "$name: built $(tail -1 <<< "$dir") ($(du -b "$dir/vmlinuz" "$dir/initrd.img" | awk '{s += $1} END {printf "%.1f MB", s / 1e6}'); $(closure_of "$dir"))"
	local fv; fv=$(basename "$(dirname "$dir")")/$(basename "$dir")
	if "$KILN" manifest verify "$fv" --store "$STORE" --allow-unsigned --deep > "$STORE/$name.verify" 2>&1; then
		ok "$name: manifest verify --deep holds ($(grep -c '^ok' "$STORE/$name.verify") checks)"
	else
		not_ok "$name: manifest verify --deep: $(tail -1 "$STORE/$name.verify")"
	fi
	[ "$name" = redis ] && check_security "$dir"
	port=$(free_port)
	t0=$(date +%s.%N)
	"$KILN" boot "$(basename "$(dirname "$dir")")/$(basename "$dir")" --store "$STORE" --timeout "$TIMEOUT" \
		--memory "${BOOT_MEMORY:-512}" --forward "$port:$gport" > "$log" 2>&1 &
	local vm=$!
	while kill -0 $vm 2>/dev/null; do
		[ -z "$t_banner" ] && grep -q "^kiln-init: $name .* starting " "$log" 2>/dev/null && t_banner=$(date +%s.%N)
		if [ -n "$t_banner" ] && "$@" "$port" > "$STORE/$name.probe" 2>&1; then
			t_ready=$(date +%s.%N); break
		fi
		sleep 0.5
	done
	if [ -n "$t_banner" ]; then
		ok "$name: kiln-init banner after $(awk -v a="$t_banner" -v b="$t0" 'BEGIN { printf "%.1f", a - b }') s"
	else
		not_ok "$name: no kiln-init banner"; tail -20 "$log"
	fi
	if [ -n "$t_ready" ]; then
		ok "$name: the application answers after $(awk -v a="$t_ready" -v b="$t0" 'BEGIN { printf "%.1f", a - b }') s: $(head -c 60 "$STORE/$name.probe" | tr -d '\r\n')"
	elif kill -0 $vm 2>/dev/null; then
		not_ok "$name: the application never answered"; tail -20 "$log"
	else
		wait $vm; not_ok "$name: the guest ended (kiln boot exited $?) before the application answered"; tail -20 "$log"
	fi
	kill $vm 2>/dev/null; wait $vm 2>/dev/null
	echo "$name: image $(du -b "$dir/vmlinuz" "$dir/initrd.img" | awk '{s += $1} END {printf "%.1f MB", s / 1e6}'), answer after ${t_ready:+$(awk -v a="$t_ready" -v b="$t0" 'BEGIN { printf "%.1f", a - b }') s}" >> "$STORE/figures"
}

# "Closure=files: 16 of 52 packages kept, 97 files" from the manifest and files.tsv
closure_of() {
	python3 - "$1" "$(grep -m1 '^Closure=' "$TOP/recipes/$(basename "$(dirname "$1")").recipe" 2> /dev/null || echo Closure=packages)" <<'PY'
import json, os, sys
m = json.load(open(os.path.join(sys.argv[1], "manifest.json")))
kept = sum(1 for p in m["packages"] if p.get("in_image", "kept") == "kept")
n = sum(1 for _ in open(os.path.join(sys.argv[1], "files.tsv")))
print("%s: %d of %d packages kept, %d files" % (sys.argv[2], kept, len(m["packages"]), n))
PY
}

# The redis manifest must list redis-server and libssl3 (both from
# bookworm-security) with the CVE ids their own changelogs give since the
# bookworm versions: checked here against the changelog text read with dpkg-deb.
check_security() {	# VERSION-DIR
	local m=$1/manifest.json pkg
	for pkg in redis-server libssl3; do
		local line ver prev sha deb log want got
		line=$(python3 -c 'import json,sys; u={x["package"]: x for x in json.load(open(sys.argv[1]))["security_updates"]}; x=u.get(sys.argv[2]); print(x["version"], x["previous"], x["suite"], " ".join(x["cves"])) if x else print("")' "$m" "$pkg")
		if [ -z "$line" ]; then not_ok "redis manifest: no security update for $pkg"; continue; fi
		read -r ver prev suite got <<< "$line"
		sha=$(python3 -c 'import json,sys; print(next(p["sha256"] for p in json.load(open(sys.argv[1]))["packages"] if p["name"] == sys.argv[2]))' "$m" "$pkg")
		deb=$STORE/cache/sha256/$sha
		log=$(dpkg-deb --fsys-tarfile "$deb" | tar -xOf - --wildcards "./usr/share/doc/*/changelog.Debian.gz" 2>/dev/null | zcat 2>/dev/null)
		if [ -z "$log" ]; then	# the doc directory is another package's (a symlink)
			log=$(for d in "$STORE"/cache/sha256/*; do dpkg-deb --fsys-tarfile "$d" 2>/dev/null | tar -xOf - --wildcards "./usr/share/doc/$(dpkg-deb -f "$deb" Source | cut -d' ' -f1)*/changelog.Debian.gz" 2>/dev/null; done | zcat 2>/dev/null | head -c 10000000)
		fi
		# ids of the entries above the previous (bookworm) version's
		want=$(awk -v prev="$prev" '/^[a-z0-9][a-z0-9+.-]* \(/ { v = $2; gsub(/[()]/, "", v); if (v == prev) exit } { print }' <<< "$log" |
			grep -oE '(^|[^A-Za-z0-9-])CVE-[0-9]{4}-[0-9]{4,7}' | grep -oE 'CVE-[0-9-]+' | sort -u | tr '\n' ' ' | sed 's/ $//')
		if [ "$suite" = bookworm-security ] && [ -n "$got" ] && [ "$got" = "$want" ]; then
			ok "redis manifest: $pkg $ver from $suite fixes $(wc -w <<< "$got") CVEs since $prev, as its changelog says"
		else
			not_ok "redis manifest: $pkg $ver ($suite) lists '$got', the changelog since $prev gives '$want'"
		fi
	done
}

# the clients a user would use: redis's protocol by hand, curl, dig, psql
redis_ping() { exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1; printf 'PING\r\n' >&3; timeout 5 head -c 7 <&3 | grep -q '^+PONG'; local rc=$?; exec 3>&-; [ $rc -eq 0 ] && echo "+PONG"; return $rc; }
http_get() { curl -sf --max-time 5 "http://127.0.0.1:$1/" | grep -q 'busybox httpd' && curl -s "http://127.0.0.1:$1/" | grep -o '<title>.*</title>'; }

nginx_get() { curl -sf --max-time 5 "http://127.0.0.1:$1/" | grep -o '<title>nginx in a kiln image</title>'; }
memcached_version() { exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1; printf 'version\r\n' >&3; local v; v=$(timeout 5 head -1 <&3 | tr -d '\r'); exec 3>&-; [[ $v == "VERSION "* ]] && echo "$v"; }
unbound_dig() { local a; a=$(dig +tcp +short +time=3 +tries=1 -p "$1" @127.0.0.1 www.kiln.test A) && [ "$a" = 10.0.2.15 ] && echo "www.kiln.test A $a"; }
postgresql_select() { PGPASSWORD=kiln-example PGCONNECT_TIMEOUT=5 psql -h 127.0.0.1 -p "$1" -U postgres -tAc 'SELECT 1' 2>/dev/null | grep -qx 1 && echo "SELECT 1 -> 1"; }

: > "$STORE/figures"
boot "$TOP/recipes/redis.recipe" 6379 redis_ping
boot "$TOP/recipes/httpd.recipe" 80 http_get
boot "$TOP/recipes/nginx.recipe" 80 nginx_get
boot "$TOP/recipes/memcached.recipe" 11211 memcached_version
boot "$TOP/recipes/unbound.recipe" 53 unbound_dig
BOOT_MEMORY=1024 boot "$TOP/recipes/postgresql.recipe" 5432 postgresql_select

# Disk images (warm: the packages are cached by now): the redis recipe with
# Formats=initramfs qcow2 vhd; its build time next to the initramfs-only
# build of the same recipe; bit-identical when built again; booted from the
# disk under UEFI (OVMF) to PONG, next to the direct kernel boot of the same
# version; kiln audit of it clean.
secs() { awk -v a="$2" -v b="$1" 'BEGIN { printf "%.1f", a - b }'; }
ping_boot() {	# NAME VERSION-DIR [--disk]: boot, seconds to PONG on stdout (empty: none)
	local port vm t0 t
	port=$(free_port)
	t0=$(date +%s.%N)
	"$KILN" boot "redisdisk/$(basename "$2")" --store "$STORE" --timeout "$TIMEOUT" --memory 512 --forward "$port:6379" \
		${3:-} > "$STORE/$1.console" 2>&1 &
	vm=$!
	while kill -0 $vm 2>/dev/null; do
		if redis_ping "$port" > /dev/null 2>&1; then t=$(date +%s.%N); break; fi
		sleep 0.2
	done
	kill $vm 2>/dev/null; wait $vm 2>/dev/null
	[ -n "${t:-}" ] && secs "$t0" "$t"
}
disk_checks() {
	local r=$STORE/redisdisk.recipe ri=$STORE/redisdisk-initrd.recipe d v t0 t1 t2 td tb
	sed -e 's/^Family=redis/Family=redisdisk/' -e 's/^Formats=.*/Formats=initramfs qcow2 vhd/' "$TOP/recipes/redis.recipe" > "$r"
	sed 's/^Formats=.*/Formats=initramfs/' "$r" > "$ri"
	cp -r "$TOP/recipes/files" "$STORE/" 2>/dev/null
	t0=$(date +%s.%N)
	"$KILN" build "$ri" --store "$STORE" --version 2026.01.1 > /dev/null 2> "$STORE/redisdisk.build" || { not_ok "redisdisk: initramfs build failed: $(tail -1 "$STORE/redisdisk.build")"; return; }
	t1=$(date +%s.%N)
	if ! d=$("$KILN" build "$r" --store "$STORE" --version 2026.01.2 2> "$STORE/redisdisk.build"); then
		not_ok "redisdisk: disk build failed: $(tail -1 "$STORE/redisdisk.build")"; return
	fi
	t2=$(date +%s.%N)
	d=$(tail -1 <<< "$d")
	ok "redisdisk: built disk.qcow2 ($(stat -c %s "$d/disk.qcow2") bytes) and disk.vhd ($(stat -c %s "$d/disk.vhd") bytes)"
	echo "redis disk build (warm): $(secs "$t1" "$t2") s with qcow2+vhd, $(secs "$t0" "$t1") s initramfs only; disk.qcow2 $(stat -c %s "$d/disk.qcow2") B, disk.vhd $(stat -c %s "$d/disk.vhd") B" >> "$STORE/figures"
	sha256sum "$d/disk.qcow2" "$d/disk.vhd" > "$STORE/disk.sums"
	sleep 1
	if "$KILN" build "$r" --store "$STORE" --version 2026.01.2 --force > /dev/null 2>> "$STORE/redisdisk.build" &&
		sha256sum -c --quiet "$STORE/disk.sums" > /dev/null 2>&1; then
		ok "redisdisk: built again, disk.qcow2 and disk.vhd are bit-identical"
	else
		not_ok "redisdisk: the second build's disks differ"
	fi
	td=$(ping_boot redisdisk-uefi "$d" --disk)
	tb=$(ping_boot redisdisk-direct "$d")
	if [ -n "$td" ] && grep -q "BdsDxe: starting" "$STORE/redisdisk-uefi.console"; then
		ok "redisdisk: booted from disk.qcow2 under OVMF and answered PING (+PONG after $td s)"
	else
		not_ok "redisdisk: no PONG from the disk boot"; tail -5 "$STORE/redisdisk-uefi.console"
	fi
	echo "redis boot to PONG (TCG): $td s from the disk under UEFI, $tb s direct kernel boot" >> "$STORE/figures"
	t0=$(date +%s.%N)
	if "$KILN" audit "redisdisk/2026.01.2" --store "$STORE" > "$STORE/redisdisk.audit" 2>&1; then
		ok "redisdisk: kiln audit of the disk is clean ($(head -1 "$STORE/redisdisk.audit" | cut -c1-100))"
	else
		not_ok "redisdisk: kiln audit: $(tail -5 "$STORE/redisdisk.audit")"
	fi
	echo "kiln audit of the redis disk: $(secs "$t0" "$(date +%s.%N)") s" >> "$STORE/figures"
}
disk_checks

# The command's exit status travels out: kiln-init reports it, powers off
# (OnExit=poweroff), and kiln boot exits with it.
sed -e 's/^Family=httpd/Family=exitcode/' -e 's|^Cmd=.*|Cmd=/bin/busybox false|' -e '/^\[Files\]/,/^$/d' \
	"$TOP/recipes/httpd.recipe" > "$STORE/exitcode.recipe"
if d=$("$KILN" build "$STORE/exitcode.recipe" --store "$STORE" 2> "$STORE/exitcode.build"); then
	"$KILN" boot "exitcode/$(basename "$d")" --store "$STORE" --timeout "$TIMEOUT" > "$STORE/exitcode.console" 2>&1
	rc=$?
	if [ $rc -eq 1 ] && grep -q '^kiln-init: /bin/busybox exited; exit status 1' "$STORE/exitcode.console"; then
		ok "exitcode: 'busybox false' powered the guest off and kiln boot exited 1"
	else
		not_ok "exitcode: kiln boot exited $rc"; tail -5 "$STORE/exitcode.console"
	fi
else
	not_ok "exitcode: build failed: $(tail -1 "$STORE/exitcode.build")"
fi
accel=${KILN_ACCEL:-auto}
[ -e "$STORE/cache/kvm-failed" ] && accel="TCG (KVM failed here: $(head -c 120 "$STORE/cache/kvm-failed"))"
[ "$accel" = auto ] && [ ! -e /dev/kvm ] && accel="TCG (no /dev/kvm)"
echo "# figures (image = vmlinuz + initrd.img; answer = seconds from the start of kiln boot; accel $accel):"
sed 's/^/#   /' "$STORE/figures"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
