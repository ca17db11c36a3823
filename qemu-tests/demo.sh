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
	local v=$1 today later
	today=$(date -u +%F)
	later=$(date -u -d "$today + 120 days" +%F)
	echo "== kiln release $v --pubkey $key.pub"
	"$KILN" release "$v" --store "$STORE" --pubkey "$key.pub"
	echo "== kiln versions --family ${v%%/*}"
	"$KILN" versions --store "$STORE" --family "${v%%/*}"
	echo "== kiln deploy create demo-web --tenant demo --family ${v%%/*}"
	"$KILN" deploy create "demo-$$" --tenant demo --family "${v%%/*}" --store "$STORE"
	echo "== kiln tick --now $later   (the lifecycle clock, 120 days on)"
	"$KILN" tick --store "$STORE" --now "$later"
	"$KILN" versions --store "$STORE" --family "${v%%/*}" --all --now "$later"
	"$KILN" events --store "$STORE" --tenant demo | tail -5
}
trap 'kill $vm 2>/dev/null; wait $vm 2>/dev/null' EXIT
for _ in $(seq 600); do
	if exec 3<>"/dev/tcp/127.0.0.1/$port" 2>/dev/null; then
		printf 'PING\r\n' >&3
		if reply=$(timeout 2 head -c 7 <&3) && [ "${reply%$'\r'*}" = "+PONG" ]; then
			echo; echo "== redis in $v answered PING from the host through port $port: $reply"
			kill $vm 2>/dev/null; wait $vm 2>/dev/null
			lifecycle "$v"
			exit 0
		fi
		exec 3>&-
	fi
	sleep 0.5
done
echo "== redis did not answer"; exit 1
