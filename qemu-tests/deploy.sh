#!/bin/bash
# deploy.sh - deployments as real libvirt guests (make qemu-check): starts
# libvirtd itself when none runs, deploys the redis image under
# qemu:///system (domain type qemu: TCG here) with a data volume, writes a
# key, moves the clock past its version's expiry and ticks: the same domain
# must run the newer version with the key kept and automatic updates on.
# Then an upgrade to a version whose application exits at start is rolled
# back (volume snapshot included) and the old version still answers with
# its key; and a two-instance deployment is upgraded while a client asks
# both instances every half second: at every moment one answers.
#   KILN=build/kiln qemu-tests/deploy.sh
set -u
KILN=${KILN:-build/kiln}
TOP=$(cd "$(dirname "$0")/.." && pwd)
URI=qemu:///system
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }
not_ok() { fail=$((fail + 1)); echo "not ok - $*"; }

for c in libvirtd virsh qemu-img qemu-system-x86_64; do
	command -v $c > /dev/null || { echo "deploy: $c is missing ('make deps'): skipped"; exit 77; }
done
[ "$(id -u)" -eq 0 ] || { echo "deploy: libvirt's system instance needs root: skipped"; exit 77; }

STORE=$(mktemp -d /var/tmp/kiln-deploy.XXXXXX)
. "$TOP/qemu-tests/libvirt-lib.sh"
libvirt_up || exit 1

# redis PORT ADDR COMMAND...: one RESP exchange, the reply on stdout
redis() {
	python3 - "$@" <<'EOF'
import socket, sys
addr, args = sys.argv[1], sys.argv[2:]
s = socket.create_connection((addr, 6379), 2)
s.settimeout(3)
s.sendall(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a.encode()) for a in args))
r = s.recv(4096).decode()
print(r.split("\r\n")[1] if r.startswith("$") else r.strip())
EOF
}

"$KILN" keygen --out "$STORE/k" > /dev/null
"$KILN" policy trust "$STORE/k.pub" > /dev/null
# keep=1: a version is disabled 60 days after release once a newer one exists, expired 30 days later
"$KILN" policy set keep=1 > /dev/null
build() {	# RECIPE: the version built
	local d
	d=$("$KILN" build "$1" --key "$STORE/k" 2> "$STORE/build.err") || { echo "deploy: build failed: $(tail -1 "$STORE/build.err")" >&2; return 1; }
	basename "$d"
}
sed -e 's|^Cmd=.*|Cmd=/usr/bin/redis-server /etc/redis/missing.conf|' "$TOP/recipes/redis.recipe" > "$STORE/redis-bad.recipe"
cp -r "$TOP/recipes/files" "$STORE/files"
A=$(build "$TOP/recipes/redis.recipe") && B=$(build "$TOP/recipes/redis.recipe") &&
	C=$(build "$STORE/redis-bad.recipe") && D=$(build "$TOP/recipes/redis.recipe") &&
	E=$(build "$TOP/recipes/redis.recipe") || exit 1
ok "built redis $A, $B, $D, $E and $C (whose redis-server exits at start)"
"$KILN" release redis/$A --released 2026-08-01 > /dev/null && "$KILN" release redis/$B --released 2026-09-01 > /dev/null ||
	{ not_ok "release"; exit 1; }

# 1. a deployment with a volume, a key written to it
t0=$(date +%s.%N)
if "$KILN" deploy create db --tenant acme --family redis --version $A --volume 64M --network $NET --forward 6379 \
	--config maxmemory=32mb --now 2026-08-10 > "$STORE/out" 2>&1; then
	ok "deploy create: a guest with a volume, healthy after $(awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN { printf "%.1f", a - b }') s (libguestfs included)"
else
	not_ok "deploy create: $(cat "$STORE/out")"; exit 1
fi
ADDR=$("$KILN" deploy show db --tenant acme --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["instances"][0]["address"])')
CON=$STORE/deployments/acme/db/console.0.log
UUID=$(virsh -c $URI domuuid kiln-acme-db)
grep -q "configuration from the deployment: maxmemory" "$CON" && ok "kiln-init read the deployment's configuration (SMBIOS)" ||
	not_ok "no configuration line on the console"
grep -q "data volume /dev/vd. mounted on /var/lib/redis" "$CON" && ok "kiln-init mounted the volume" || not_ok "no volume line on the console"
r="$(redis "$ADDR" SET kiln-key kept) $(redis "$ADDR" SAVE)"
[ "$r" = "+OK +OK" ] && ok "SET and SAVE on $ADDR" || not_ok "SET/SAVE: $r"

# 2. past the expiry of $A: the tick force-upgrades the same domain to $B, the key kept
"$KILN" tick --now 2026-11-25 > "$STORE/out" 2>&1; rc=$?
show=$("$KILN" deploy show db --tenant acme --json)
run=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["instances"][0]["running_version"])' "$show")
auto=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["auto_update"])' "$show")
[ $rc -eq 0 ] && [ "$run" = "$B" ] && ok "tick: $A expired, the guest now runs $B" || not_ok "tick (exit $rc): runs $run; $(cat "$STORE/out")"
[ "$(virsh -c $URI domuuid kiln-acme-db)" = "$UUID" ] && ok "the same domain (UUID $UUID)" || not_ok "another domain"
grep -q "kiln-init: redis $B starting" "$CON" && ok "its banner names $B" || not_ok "no banner for $B"
[ "$auto" = True ] && ok "automatic updates on" || not_ok "auto_update is $auto"
[ "$(redis "$ADDR" GET kiln-key)" = kept ] && ok "the key survived the upgrade" || not_ok "the key is gone: $(redis "$ADDR" GET kiln-key)"

# two instances following the newest version, on $B for now, on two hosts: the second a second libvirt
# URI of this machine's libvirtd (its own connection, as a remote host would be)
if "$KILN" deploy create pair --tenant acme --family redis --auto --instances 2 --network $NET --forward 6379 \
	--host $URI --host qemu+unix:///system --now 2026-11-25 > "$STORE/out" 2>&1; then
	hosts=$("$KILN" deploy show pair --tenant acme --json | python3 -c 'import json,sys; print(" ".join(i["host"] + "=" + i["address"] for i in json.load(sys.stdin)["instances"]))')
	ok "deploy create: two instances on $B, one per host: $hosts"
else
	not_ok "deploy create pair: $(cat "$STORE/out")"
fi

# 3. an automatic update to $C, whose application exits: rolled back, volume snapshot included; the
#    pair's rollout stops at its first instance, the second never leaves $B
"$KILN" release redis/$C --released 2026-11-26 > /dev/null
redis "$ADDR" SET after-snapshot 1 > /dev/null
"$KILN" tick --now 2026-11-27 > "$STORE/out" 2>&1; rc=$?
show=$("$KILN" deploy show db --tenant acme --json)
run=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["instances"][0]["running_version"])' "$show")
snaps=$(python3 -c 'import json,sys; print(" ".join(json.loads(sys.argv[1])["instances"][0]["snapshots"]))' "$show")
[ $rc -eq 1 ] && [ "$run" = "$B" ] && ok "tick: $C not healthy, rolled back to $B (exit 1)" || not_ok "tick (exit $rc): runs $run; $(cat "$STORE/out")"
"$KILN" events --json | grep -q '"upgrade-failed"' && ok "an upgrade-failed event with the console's last lines" || not_ok "no upgrade-failed event"
[ -n "$snaps" ] && ok "volume snapshots: $snaps" || not_ok "no volume snapshot"
runs=$("$KILN" deploy show pair --tenant acme --json | python3 -c 'import json,sys; print(" ".join(i["running_version"] for i in json.load(sys.stdin)["instances"]))')
[ "$runs" = "$B $B" ] && ok "the pair: the first instance rolled back, the second left alone" || not_ok "the pair runs $runs"
[ "$(redis "$ADDR" GET kiln-key)" = kept ] && ok "$B answers with its key after the rollback" || not_ok "after the rollback: $(redis "$ADDR" GET kiln-key)"

# 4. two instances upgraded one at a time while a client asks both every half second
"$KILN" release redis/$D --released 2026-11-28 > /dev/null
addrs=$("$KILN" deploy show pair --tenant acme --json | python3 -c 'import json,sys; print(" ".join(i["address"] for i in json.load(sys.stdin)["instances"]))')
python3 - $addrs > "$STORE/probe.log" <<'EOF' &
import socket, sys, time
t0 = time.time()
while True:
    up = ""
    for a in sys.argv[1:]:
        try:
            s = socket.create_connection((a, 6379), 1); s.settimeout(1); s.sendall(b"PING\r\n")
            up += "1" if s.recv(16).startswith(b"+PONG") else "0"
            s.close()
        except OSError:
            up += "0"
    print("%.1f %s" % (time.time() - t0, up), flush=True)
    time.sleep(0.5)
EOF
probe=$!
sleep 1
"$KILN" tick --now 2026-11-29 > "$STORE/out" 2>&1; rc=$?
sleep 1; kill $probe; wait $probe 2> /dev/null
runs=$("$KILN" deploy show pair --tenant acme --json | python3 -c 'import json,sys; print(" ".join(i["running_version"] for i in json.load(sys.stdin)["instances"]))')
[ $rc -eq 0 ] && [ "$runs" = "$D $D" ] && ok "tick: both instances on $D" || not_ok "tick (exit $rc): $runs; $(cat "$STORE/out")"
n=$(wc -l < "$STORE/probe.log"); zero=$(grep -c ' 00$' "$STORE/probe.log"); one=$(grep -c ' \(01\|10\)$' "$STORE/probe.log")
if [ "$n" -gt 4 ] && [ "$zero" -eq 0 ] && [ "$one" -gt 0 ]; then
	ok "at every one of $n probes an instance answered ($one with only one up)"
else
	not_ok "$zero of $n probes found no instance answering ($one with one up)"; grep -B3 -A3 ' 00$' "$STORE/probe.log" | head -20
fi

# 5. the API: POST runs a guest on the server's host, GET shows what libvirt runs and its health
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
TOKEN=$("$KILN" tenant token globex)
"$KILN" serve --listen 127.0.0.1:$port --host $URI --network $NET --now 2026-11-29 2> "$STORE/serve.log" &
srv=$!
for _ in $(seq 50); do curl -s "http://127.0.0.1:$port/v1/families" > /dev/null && break; sleep 0.1; done
code=$(curl -s -o "$STORE/post" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
	-d '{"name": "api1", "family": "redis", "forward": [6379], "memory_mib": 512}' "http://127.0.0.1:$port/v1/deployments")
[ "$code" = 201 ] && ok "POST /v1/deployments: 201, a guest on $URI" || not_ok "POST: $code $(cat "$STORE/post")"
curl -s -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$port/v1/deployments" > "$STORE/get"
live=$(python3 -c 'import json,sys; i=json.load(open(sys.argv[1]))[0]["instances"][0]; print(i["state"], i["running_version"], i["health"])' "$STORE/get")
[ "$live" = "running $D healthy" ] && ok "GET /v1/deployments: $live" || not_ok "GET: $live"
kill $srv; wait $srv 2> /dev/null

# 6. a tick killed in the middle of an upgrade (the new version defined and started, not yet found
#    healthy): the next tick puts the guest back on what the catalog records, the one after upgrades it
"$KILN" release redis/$E --released 2026-11-30 > /dev/null
KILN_TEST_KILL_AT=started "$KILN" tick --now 2026-12-01 --parallel 1 > /dev/null 2>&1; rc=$?
drift=$("$KILN" deploy show db --tenant acme --json | python3 -c 'import json,sys; i=json.load(sys.stdin)["instances"][0]; print(i["version"], i["upgrading"], i["running_version"])')
[ $rc -eq 137 ] && [ "$drift" = "$D $E $E" ] && ok "killed tick: the catalog says $D (upgrade to $E under way), libvirt runs $E" ||
	not_ok "killed tick: exit $rc, $drift"
"$KILN" tick --now 2026-12-01 --json > "$STORE/out" 2> "$STORE/err"
rec=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["guests"]["reconciled"])' "$STORE/out" 2> /dev/null)
run=$("$KILN" deploy show db --tenant acme --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["instances"][0]["running_version"])')
[ "$rec" = 1 ] && [ "$run" = "$D" ] && [ "$(redis "$ADDR" GET kiln-key)" = kept ] &&
	ok "the next tick reconciled it: back on $D, its key there" || not_ok "reconcile: $rec reconciled, runs $run; $(cat "$STORE/out" "$STORE/err")"
"$KILN" tick --now 2026-12-02 > "$STORE/out" 2>&1
run=$("$KILN" deploy show db --tenant acme --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["instances"][0]["running_version"])')
[ "$run" = "$E" ] && [ "$(redis "$ADDR" GET kiln-key)" = kept ] && ok "the tick after upgraded it to $E" ||
	not_ok "after the reconcile: runs $run; $(cat "$STORE/out")"

# 7. stop, start, delete (the volume kept unless --purge)
"$KILN" deploy stop db --tenant acme > /dev/null && [ "$(virsh -c $URI domstate kiln-acme-db)" = "shut off" ] &&
	ok "deploy stop" || not_ok "deploy stop"
"$KILN" deploy start db --tenant acme > /dev/null && [ "$(redis "$ADDR" GET kiln-key)" = kept ] && ok "deploy start: healthy, key there" || not_ok "deploy start"
"$KILN" deploy delete db --tenant acme > /dev/null && ! virsh -c $URI dominfo kiln-acme-db > /dev/null 2>&1 &&
	[ -f "$STORE/deployments/acme/db/data.0.qcow2" ] && ok "deploy delete: domain gone, volume kept" || not_ok "deploy delete"
# 8. a deployment that boots its version's disk under UEFI (OVMF), as a cloud would: the address
#    reaches kiln-init as an OEM string (the disk's command line is signed), the volume is the
#    second disk, found by its serial; delete --purge takes the UEFI variables and overlays too
sed -e 's/^Family=redis/Family=redisuefi/' -e 's/^Formats=.*/Formats=initramfs qcow2/' "$TOP/recipes/redis.recipe" > "$STORE/redisuefi.recipe"
if U=$(build "$STORE/redisuefi.recipe") && "$KILN" release redisuefi/$U --released 2026-12-01 > /dev/null; then
	t0=$(date +%s.%N)
	if "$KILN" deploy create uefi --tenant acme --family redisuefi --version $U --boot disk --volume 64M --network $NET \
		--forward 6379 --now 2026-12-02 > "$STORE/out" 2>&1; then
		ok "deploy create --boot disk: healthy after $(awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN { printf "%.1f", a - b }') s (volume included)"
	else
		not_ok "deploy create --boot disk: $(cat "$STORE/out")"
	fi
	UCON=$STORE/deployments/acme/uefi/console.0.log
	UADDR=$("$KILN" deploy show uefi --tenant acme --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["instances"][0]["address"])')
	virsh -c $URI dumpxml kiln-acme-uefi | grep -q "<loader readonly='yes' type='pflash'>" && grep -q "BdsDxe: starting" "$UCON" &&
		ok "booted by OVMF from its disk" || not_ok "no UEFI boot on the console"
	grep -q "data volume /dev/vdb mounted on /var/lib/redis" "$UCON" && ok "the volume is /dev/vdb beside the boot disk" ||
		not_ok "volume: $(grep 'kiln-init' "$UCON" | head -5)"
	r="$(redis "$UADDR" SET disk-key 1) $(redis "$UADDR" GET disk-key)"
	[ "$r" = "+OK 1" ] && ok "redis on $UADDR (address from the OEM string) answers" || not_ok "SET/GET on $UADDR: $r"
	if "$KILN" deploy delete uefi --tenant acme --purge > "$STORE/out" 2>&1 && ! virsh -c $URI dominfo kiln-acme-uefi > /dev/null 2>&1 &&
		[ ! -e "$STORE/deployments/acme/uefi" ]; then
		ok "deploy delete --purge: domain, UEFI variables, overlays and volume gone"
	else
		not_ok "deploy delete --purge: $(cat "$STORE/out"; ls "$STORE/deployments/acme/uefi" 2>&1)"
	fi
else
	not_ok "redisuefi: build or release failed"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
