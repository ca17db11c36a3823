#!/bin/bash
# assess.sh - needs the network: kiln assess on the real archive. redis is
# built from the point release alone (Suites=bookworm: an earlier state of
# the image, without the updates and security suites), then assessed
# against recipes/redis.recipe as it is: every package the security suite
# updates must be listed as a security update with today's candidate (as
# kiln resolve picks it; apt-equal.sh checks that apt picks the same), and redis-server's CVEs
# must be the ones its candidate's changelog gives since the installed
# version. Then kiln rebake of recipes/redis.recipe builds exactly once.
#   usage: assess.sh   (make check-archive)
set -u
KILN=${KILN:-build/kiln}
here=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }
not_ok() { fail=$((fail + 1)); echo "not ok - $*"; }

cp -r "$here/recipes/files" "$tmp/"
cp "$here/recipes/redis.recipe" "$tmp/redis.recipe"
sed 's/^Suites=.*/Suites=bookworm/' "$here/recipes/redis.recipe" > "$tmp/point.recipe"
if ! "$KILN" build "$tmp/point.recipe" --store "$tmp/store" --version 2000.01.0 > /dev/null 2> "$tmp/build.err"; then
	if grep -q 'cannot fetch' "$tmp/build.err"; then
		echo "the archive is not reachable: skipped ($(tail -1 "$tmp/build.err"))"; exit 77
	fi
	not_ok "build from the point release: $(tail -1 "$tmp/build.err")"; echo "$pass passed, $fail failed"; exit 1
fi
ok "redis built from the point release alone (redis/2000.01.0)"
t0=$(date +%s.%N)
if "$KILN" assess redis/2000.01.0 --recipe "$tmp/redis.recipe" --store "$tmp/store" --json > "$tmp/assess.json" 2> "$tmp/assess.err"; then
	ok "kiln assess against recipes/redis.recipe ($(awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN { printf "%.1f", a - b }') s, changelogs fetched)"
else
	not_ok "kiln assess: $(cat "$tmp/assess.err")"; echo "$pass passed, $fail failed"; exit 1
fi
"$KILN" resolve "$tmp/redis.recipe" --store "$tmp/store" --json > "$tmp/now.json"
# the point release's packages that the resolution now takes from the security suite, by kiln resolve's own record
python3 - "$tmp/assess.json" "$tmp/now.json" "$tmp/store/redis/2000.01.0/manifest.json" > "$tmp/check.out" 2>&1 <<'PY'
import json, sys
(a,) = json.load(open(sys.argv[1]))
now = {p["name"]: p for p in json.load(open(sys.argv[2]))["packages"]}
old = {p["name"]: p for p in json.load(open(sys.argv[3]))["packages"]}
want = sorted(n for n in old if n in now and now[n]["version"] != old[n]["version"] and now[n]["suite"].endswith("-security"))
got = {x["package"]: x for x in a["pending"]}
assert want, "the security suite updates nothing in redis's closure today?"
for n in want:
    x = got.get(n)
    assert x, "%s is missing from the assessment" % n
    assert (x["installed"], x["candidate"], x["classification"]) == (old[n]["version"], now[n]["version"], "security"), x
print("%d security updates: %s" % (len(want), " ".join("%s %s" % (n, now[n]["version"]) for n in want)))
PY
if [ $? -eq 0 ]; then ok "every security-suite update listed, with apt's candidate: $(cat "$tmp/check.out")"; else not_ok "$(cat "$tmp/check.out")"; fi
# redis-server's ids: what its candidate's changelog lists between the two versions
sha=$(python3 -c 'import json,sys; print(next(p["sha256"] for p in json.load(open(sys.argv[1]))["packages"] if p["name"] == "redis-server"))' "$tmp/now.json")
read -r inst cand got < <(python3 -c 'import json,sys; (a,) = json.load(open(sys.argv[1])); x = next(x for x in a["pending"] if x["package"] == "redis-server"); print(x["installed"], x["candidate"], " ".join(x["cves"]))' "$tmp/assess.json")
log=$(dpkg-deb --fsys-tarfile "$tmp/store/cache/sha256/$sha" | tar -xOf - ./usr/share/doc/redis-server/changelog.Debian.gz 2>/dev/null | zcat 2>/dev/null)
want=$(awk -v prev="$inst" '/^[a-z0-9][a-z0-9+.-]* \(/ { v = $2; gsub(/[()]/, "", v); if (v == prev) exit } { print }' <<< "$log" |
	grep -oE '(^|[^A-Za-z0-9-])CVE-[0-9]{4}-[0-9]{4,7}' | grep -oE 'CVE-[0-9-]+' | sort -u | tr '\n' ' ' | sed 's/ $//')
[ -n "$want" ] && [ "$(tr ' ' '\n' <<< "$got" | sort -u | tr '\n' ' ' | sed 's/ $//')" = "$want" ] &&
	ok "redis-server $inst → $cand fixes $(wc -w <<< "$want") CVEs, as its changelog says" || not_ok "redis-server: '$got', the changelog gives '$want'"

# rebake: the point-release version is behind; a first rebake builds, a second is up to date
"$KILN" keygen --out "$tmp/k" > /dev/null 2>&1
"$KILN" rebake "$tmp/redis.recipe" --key "$tmp/k" --store "$tmp/store" > "$tmp/rebake.out" 2>&1 &&
	grep -q "^redis: built redis/.* (security updates)$" "$tmp/rebake.out" && ok "rebake built: $(cat "$tmp/rebake.out")" ||
	not_ok "rebake: $(cat "$tmp/rebake.out")"
t0=$(date +%s.%N)
"$KILN" rebake "$tmp/redis.recipe" --key "$tmp/k" --store "$tmp/store" > "$tmp/rebake.out" 2>&1 &&
	grep -q "^redis: up to date" "$tmp/rebake.out" &&
	ok "rebake again: $(cat "$tmp/rebake.out") in $(awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN { printf "%.2f", a - b }') s" ||
	not_ok "rebake again: $(cat "$tmp/rebake.out")"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
