#!/bin/bash
# t5200-slow-clients.sh - kiln serve under a slow-header (slowloris) attack on
# loopback: one client address holds at most --max-per-client connections, an
# idle one is closed after --client-timeout, and everyone else is served.
. "$(dirname "$0")/../lib/test-lib.sh"
S=$T/store
"$KILN" policy show --store "$S" > /dev/null
ulimit -n 4096 2>/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$KILN" serve --store "$S" --listen "127.0.0.1:$port" --max-per-client 20 --client-timeout 3 2> serve.log &
srv=$!
trap 'kill $srv 2>/dev/null; wait $srv 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 50); do curl -s "http://127.0.0.1:$port/v1/families" > /dev/null && break; sleep 0.1; done

# 1,100 slow connections from 127.0.0.2 for 8 s; meanwhile 127.0.0.1 asks every half second
python3 "$TOP/tests/lib/slowloris.py" 127.0.0.1 "$port" 127.0.0.2 1100 8 > attack.out &
att=$!
sleep 2
worst=0 failed=0
for _ in $(seq 10); do
	t=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 3 "http://127.0.0.1:$port/v1/families") || true
	[ "${t%% *}" = 200 ] || failed=$((failed + 1))
	worst=$(awk -v a="$worst" -v b="${t#* }" 'BEGIN { print (b > a) ? b : a }')
	sleep 0.5
done
wait $att
check "every request of another client was answered during the attack (worst ${worst} s)" -- test "$failed" -eq 0
check "... at once (under a second)" -- awk -v w="$worst" 'BEGIN { exit !(w < 1) }'
read -r _ opened _ held < attack.out
check "the attacker's address held at most 20 connections (opened $opened, held $held)" -- test "$held" -le 20 -a "$opened" -ge 1000

# a connection that stops in the middle of its headers is closed after --client-timeout
python3 - "$port" > idle.out <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), source_address=("127.0.0.3", 0))
s.sendall(b"GET /v1/families HTTP/1.1\r\nHost: x\r\n")
t = time.time(); s.settimeout(30)
try:
    closed = s.recv(1) == b""
except OSError:
    closed = True
print("%s %.1f" % ("closed" if closed else "open", time.time() - t))
PY
read -r how after < idle.out
check "an idle, half-sent request is closed after the timeout ($how after $after s)" -- \
	sh -c "test '$how' = closed && awk -v a='$after' 'BEGIN { exit !(a >= 2 && a < 8) }'"
expect 2 "--max-per-client takes 1 to 1000" -- "$KILN" serve --store "$S" --max-per-client 0
expect 2 "--client-timeout takes seconds" -- "$KILN" serve --store "$S" --client-timeout soon
test_done
