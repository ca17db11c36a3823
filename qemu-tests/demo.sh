#!/bin/bash
# demo.sh - what a newcomer wants to see: bake the redis image from the real
# archive, boot it under QEMU, and talk to redis from the host.
set -eu
KILN=${KILN:-build/kiln}
STORE=${KILN_STORE:-images}
key=$STORE/demo.key
[ -e "$key" ] || { mkdir -p "$STORE"; "$KILN" keygen --out "$key" > /dev/null; }
echo "== kiln build recipes/redis.recipe --key $key"
dir=$("$KILN" build recipes/redis.recipe --store "$STORE" --key "$key")
v=$(basename "$(dirname "$dir")")/$(basename "$dir")
ls -la "$dir"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
echo "== kiln boot $v --forward $port:6379 (console follows)"
"$KILN" boot "$v" --store "$STORE" --timeout 300 --forward "$port:6379" &
vm=$!

lifecycle() {	# the version's life: released, listed with its dates, deployed, the clock moved on
	local v=$1 f=${1%%/*} today d30 d60 d100 dir2 dir3 v2 v3
	today=$(date -u +%F)
	d30=$(date -u -d "$today + 30 days" +%F)
	d60=$(date -u -d "$today + 60 days" +%F)
	d100=$(date -u -d "$today + 100 days" +%F)
	echo "== kiln release $v --pubkey $key.pub"
	"$KILN" release "$v" --store "$STORE" --pubkey "$key.pub"
	echo "== kiln deploy create web-$$ --tenant demo --record-only --family $f"
	"$KILN" deploy create "web-$$" --tenant demo --record-only --family "$f" --store "$STORE"
	echo "== two more versions of the family, released 30 and 60 days from now (rebuilt from the cache)"
	dir2=$("$KILN" build recipes/redis.recipe --store "$STORE" --key "$key" 2>/dev/null)
	dir3=$("$KILN" build recipes/redis.recipe --store "$STORE" --key "$key" 2>/dev/null)
	v2=$f/$(basename "$dir2")
	v3=$f/$(basename "$dir3")
	"$KILN" release "$v2" --store "$STORE" --pubkey "$key.pub" --released "$d30" --now "$d30"
	"$KILN" release "$v3" --store "$STORE" --pubkey "$key.pub" --released "$d60" --now "$d60"
	echo "== kiln versions --family $f --all --now $d60"
	"$KILN" versions --store "$STORE" --family "$f" --all --now "$d60"
	echo "== kiln tick --now $d60, then --now $d100 (the lifecycle clock)"
	"$KILN" tick --store "$STORE" --now "$d60"
	"$KILN" tick --store "$STORE" --now "$d100"
	"$KILN" versions --store "$STORE" --family "$f" --all --now "$d100"
	echo "== kiln events --tenant demo"
	"$KILN" events --store "$STORE" --tenant demo
	"$KILN" deploy list --store "$STORE" --tenant demo
}
trap 'kill $vm 2>/dev/null || true; wait $vm 2>/dev/null || true' EXIT
for _ in $(seq 600); do
	if ! kill -0 $vm 2>/dev/null; then	# the guest is gone: say so now, not after the polling
		wait $vm; rc=$?; trap - EXIT
		echo "== kiln boot ended (exit $rc) before redis answered"; exit 1
	fi
	if { exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null; then
		printf 'PING\r\n' >&3
		if reply=$(timeout 2 head -c 7 <&3) && [ "${reply%$'\r'*}" = "+PONG" ]; then
			echo; echo "== redis in $v answered PING from the host through port $port: $reply"
			kill $vm 2>/dev/null || true; wait $vm 2>/dev/null || true
			lifecycle "$v"
			exit 0
		fi
		exec 3>&-
	fi
	sleep 0.5
done
echo "== redis did not answer"; exit 1
