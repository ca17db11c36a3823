#!/bin/bash
# t6300-publish.sh - kiln publish and kiln verify-published on the generated
# repository: the round trip (a directory, file:// and http://); a republish
# that changes nothing rewrites nothing but the timestamp; one after a tick
# bumps targets and snapshot; each attack refused with exit 4 (a tampered
# manifest, tampered targets, an expired timestamp, a replayed older set,
# mixed snapshot and targets, the wrong key, a threshold not met); and the
# family page opened in headless Chromium: every version and date in its
# DOM, a screenshot kept in $BUILD/test-artifacts/.
. "$(dirname "$0")/../lib/test-lib.sh"
mkrepo
export KILN_STORE=$T/store KILN_NOW=2026-02-01
cat >> app.recipe <<'EOR'

[Users]
app=1000:1000:/var/lib/app
EOR
sed -i 's/^Cmd=.*/Cmd=\/usr\/bin\/app --serve\nUser=app/' app.recipe
for k in signer t1 t2 other; do "$KILN" keygen --out $k > /dev/null 2>&1; done
"$KILN" policy trust signer.pub > /dev/null
"$KILN" rebake app.recipe --key signer --release > /dev/null 2>&1
"$TOP/tests/lib/mkrepo.sh" "$T/fx" update > /dev/null
"$KILN" rebake app.recipe --key signer --release > /dev/null 2>&1
[ -d "$KILN_STORE/app/2026.01.1" ] && ok "two released versions to publish" || not_ok "the fixture versions are missing"

expect 0 "publish" -- "$KILN" publish --out site --key t1 --json
python3 -c "import json; d=json.load(open('$T/out')); assert (d['root'], d['targets'], d['snapshot'], d['timestamp']) == (1, 1, 1, 1) and d['unchanged'] == 0, d" &&
	ok "every role at version 1" || not_ok "$(cat out)"
for f in root.json targets.json snapshot.json timestamp.json lifecycle.json feed.atom index.html app/index.html \
	app/2026.01.0/manifest.json app/2026.01.0/manifest.json.sig app/2026.01.1/sbom.cdx.json app/2026.01.1/sbom.spdx.json; do
	[ -s "site/$f" ] || not_ok "site/$f is missing"
done
ok "the manifests, signatures, SBOMs, lifecycle.json, pages, feed and metadata are there"
cmp -s site/app/2026.01.0/manifest.json "$KILN_STORE/app/2026.01.0/manifest.json" && ok "manifest.json published byte for byte" ||
	not_ok "the published manifest differs"
python3 - <<'PY' && ok "lifecycle.json: both versions with dates, states, security counts and fixed CVEs" || not_ok "lifecycle.json"
import json
(a, b) = json.load(open("site/lifecycle.json"))["families"]["app"]
assert (a["version"], b["version"]) == ("2026.01.1", "2026.01.0"), (a, b)
assert a["state"] == "active" and a["released"] == "2026-02-01" and a["security_updates"] == 1, a
assert "CVE-2026-3333" in a["fixed_cves"] and "CVE-2026-3333" not in b["fixed_cves"], (a["fixed_cves"], b["fixed_cves"])
PY
cp site/root.json trusted-root.json
expect 0 "verify-published (a directory)" -- "$KILN" verify-published site --root trusted-root.json --state state.json
grep -q "verified: root v1, timestamp v1, snapshot v1, targets v1; 1[0-9] files, 2 signed manifests" out && ok "$(cat out)" || not_ok "$(cat out)"
expect 0 "verify-published (file://)" -- "$KILN" verify-published "file://$T/site" --root trusted-root.json --state state.json
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server --bind 127.0.0.1 --directory site "$port" > http.log 2>&1 &
srv=$!
for _ in $(seq 50); do curl -s "http://127.0.0.1:$port/root.json" > /dev/null && break; sleep 0.1; done
expect 0 "verify-published (http://, libcurl)" -- "$KILN" verify-published "http://127.0.0.1:$port" --root trusted-root.json --state state.json
kill $srv; wait $srv 2> /dev/null

# a republish that changes nothing: only the timestamp is re-signed
cp -a site site-v1
expect 0 "publish again, nothing changed" -- "$KILN" publish --out site --key t1 --json
python3 -c "import json; d=json.load(open('$T/out')); assert (d['targets'], d['snapshot'], d['timestamp'], d['written']) == (1, 1, 2, 1), d" &&
	ok "targets v1 and snapshot v1 kept, timestamp v2, one file written" || not_ok "$(cat out)"
diff -rq site-v1 site | grep -v timestamp.json | grep -q . && not_ok "other files changed" || ok "no other file changed"
# after a tick (keep=1: 2026.01.0 is disabled 60 days after 2026.01.1): the pages and lifecycle.json change, the manifests do not
"$KILN" policy set keep=1 > /dev/null
export KILN_NOW=2026-04-15
"$KILN" tick > /dev/null 2>&1
expect 0 "publish after the tick" -- "$KILN" publish --out site --key t1 --json
python3 -c "import json; d=json.load(open('$T/out')); assert (d['targets'], d['snapshot'], d['timestamp']) == (2, 2, 3), d" &&
	ok "targets v2, snapshot v2, timestamp v3" || not_ok "$(cat out)"
changed=$(diff -rq site-v1 site | sed -n 's/^Files site-v1\/\(.*\) and .* differ$/\1/p' | sort | tr '\n' ' ')
[ "$changed" = "app/index.html feed.atom lifecycle.json snapshot.json targets.json timestamp.json " ] &&
	ok "rewritten: $changed" || not_ok "rewritten: $changed"
grep -q '"state": "disabled"' site/lifecycle.json && ok "lifecycle.json says 2026.01.0 is disabled" || not_ok "no disabled state"
expect 0 "verify-published after the republish" -- "$KILN" verify-published site --root trusted-root.json --state state.json
cp -a site site-v3
expect 0 "publish once more, the same day (timestamp v4)" -- "$KILN" publish --out site --key t1
expect 0 "verify-published sees timestamp v4" -- "$KILN" verify-published site --root trusted-root.json --state state.json

# the attacks
attack() {	# NAME MESSAGE: run verify-published on the directory 'evil' (a copy of site, altered by the caller)
	expect 4 "$1" -- "$KILN" verify-published evil --root trusted-root.json --state evil-state.json
	err_has "$2"
}
fresh() { rm -rf evil; cp -a site evil; cp state.json evil-state.json; }
fresh; printf ' ' >> evil/app/2026.01.0/manifest.json
attack "a tampered manifest" "app/2026.01.0/manifest.json: its length or SHA-256 is not what targets.json signed"
fresh; python3 - <<'PY'
import json
d = json.load(open("evil/targets.json"))
d["signed"]["targets"]["app/2026.01.0/manifest.json"]["hashes"]["sha256"] = "0" * 64
json.dump(d, open("evil/targets.json", "w"), indent=2, sort_keys=True)
PY
attack "tampered targets" "targets.json: its length or SHA-256 is not what the role above it signed"
fresh
expect 4 "an expired timestamp (the clock two days on)" -- "$KILN" verify-published evil --root trusted-root.json --state evil-state.json --now 2026-04-17
err_has "timestamp.json: expired 2026-04-16T00:00:00Z"
# the client remembers per repository: the replay happens where it fetches from
cp -a site site-now; cp site-v3/timestamp.json site-v3/snapshot.json site-v3/targets.json site/
expect 4 "a replayed older timestamp (still valid), snapshot and targets" -- "$KILN" verify-published site --root trusted-root.json --state state.json
err_has "timestamp.json: version 3 is older than version 4 seen before (a rollback)"
rm -rf site; mv site-now site
fresh; cp site-v1/timestamp.json site-v1/snapshot.json site-v1/targets.json evil/
attack "a replayed set from February" "timestamp.json: expired 2026-02-02T00:00:00Z"
fresh; cp site-v1/targets.json evil/
attack "targets from another snapshot" "targets.json: its length or SHA-256 is not what the role above it signed"
"$KILN" publish --out other-site --key other > /dev/null
fresh; cp other-site/timestamp.json other-site/snapshot.json other-site/targets.json evil/
attack "metadata signed by another key" "timestamp.json: 0 good signatures of the timestamp role's keys, its threshold is 1"
expect 0 "a repository signed by two keys, threshold 2" -- "$KILN" publish --out site2 --key t1 --key t2
cp site2/root.json root2.json
expect 0 "... verifies" -- "$KILN" verify-published site2 --root root2.json --state state2.json
rm -rf evil; cp -a site2 evil
python3 - <<'PY'
import json
d = json.load(open("evil/timestamp.json"))
d["signatures"] = d["signatures"][:1] * 2     # one key's signature, twice
json.dump(d, open("evil/timestamp.json", "w"), indent=2, sort_keys=True)
PY
expect 4 "a threshold not met (one key's signature, given twice)" -- "$KILN" verify-published evil --root root2.json --state evil2.json
err_has "timestamp.json: 1 good signature of the timestamp role's keys, its threshold is 2"
expect 2 "publish with other keys into the same directory" -- "$KILN" publish --out site --key t2
err_has "root.json names other keys or thresholds: key rotation is not supported"

# the family page in headless Chromium: every version and date in the DOM, and a screenshot
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
	not_ok "chromium is not installed (make deps)"
else
	timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --user-data-dir="$T/chromium" \
		--dump-dom "file://$T/site/app/index.html" > dom.html 2> chromium.log
	python3 - <<'PY' && ok "Chromium's DOM of app/index.html: both versions, their states and dates, the timeline, the updates tables" || { not_ok "the DOM"; tail -5 chromium.log; }
import json
from html.parser import HTMLParser
class P(HTMLParser):
    def __init__(self):
        super().__init__(); self.rows = {}; self.cur = None; self.cells = []; self.incell = False; self.svg = set(); self.upd = set()
    def handle_starttag(self, tag, a):
        a = dict(a)
        if tag == "tr" and "data-version" in a: self.cur = a["data-version"]; self.cells = []
        if tag == "td" and self.cur: self.incell = True; self.cells.append("")
        if tag == "g" and "data-version" in a: self.svg.add(a["data-version"])
        if tag == "table" and "data-version" in a: self.upd.add(a["data-version"])
    def handle_endtag(self, tag):
        if tag == "td": self.incell = False
        if tag == "tr" and self.cur: self.rows[self.cur] = self.cells; self.cur = None
    def handle_data(self, d):
        if self.incell: self.cells[-1] += d
p = P(); p.feed(open("dom.html").read())
for v in json.load(open("site/lifecycle.json"))["families"]["app"]:
    row = p.rows[v["version"]]
    assert row[0] == v["version"] and row[1] == v["state"] and row[2] == v["released"], row
    assert row[3] == (v["disables_on"] or v["disable_forecast"]) and row[4] == (v["expires_on"] or "—"), (row, v)
    assert v["version"] in p.svg, p.svg
assert p.upd == {"2026.01.0", "2026.01.1"}, p.upd
PY
	mkdir -p "${BUILD:-$TOP/build}/test-artifacts"
	shot="${BUILD:-$TOP/build}/test-artifacts/t6300-family-page.png"
	rm -f "$shot"
	timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --user-data-dir="$T/chromium" \
		--window-size=1000,700 --screenshot="$shot" "file://$T/site/app/index.html" > /dev/null 2>> chromium.log
	[ -s "$shot" ] && [ "$(head -c 8 "$shot" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] &&
		ok "a screenshot of the page: $shot" || not_ok "no screenshot: $(tail -2 chromium.log)"
fi
test_done
