#!/bin/bash
# t6100-rebake.sh - kiln assess and kiln rebake on the generated repository:
# a first rebake builds, signs and releases; a second one is "up to date";
# a security update published to the repository (libfoo 1.2, whose
# changelog fixes CVE-2026-3333) shows in assess with its CVE and the
# deployment that runs the version; rebake --when security builds exactly
# once, recording why in the manifest; then it is up to date again.
. "$(dirname "$0")/../lib/test-lib.sh"
mkrepo
S=$T/store
export KILN_STORE=$S KILN_NOW=2026-02-01
cat >> app.recipe <<'EOR'

[Users]
app=1000:1000:/var/lib/app
EOR
sed -i 's/^Cmd=.*/Cmd=\/usr\/bin\/app --serve\nUser=app/' app.recipe
"$KILN" keygen --out k > /dev/null 2>&1
"$KILN" policy trust k.pub > /dev/null 2>&1

expect 2 "rebake without --key" -- "$KILN" rebake app.recipe
err_has "--key is required"
expect 0 "the first rebake builds, signs and releases" -- "$KILN" rebake app.recipe --key k --release
grep -q "^app: built app/2026.01.0 (first version)$" out && grep -q "^app: released app/2026.01.0" out &&
	ok "built and released app/2026.01.0" || not_ok "$(cat out)"
[ -s "$S/app/2026.01.0/manifest.json.sig" ] && [ -s "$S/app/2026.01.0/recipe" ] && ok "signed; the recipe kept beside the manifest" ||
	not_ok "no signature or recipe"
cmp -s "$S/app/2026.01.0/recipe" app.recipe && ok "the kept recipe is the recipe's bytes" || not_ok "the kept recipe differs"
expect 0 "a second rebake" -- "$KILN" rebake app.recipe --key k --release
[ "$(cat out)" = "app: up to date (app/2026.01.0)" ] && ok "up to date, nothing built" || not_ok "$(cat out)"
[ ! -e "$S/app/2026.01.1" ] && ok "no new version" || not_ok "a new version appeared"
expect 0 "assess" -- "$KILN" assess app
grep -q "^app/2026.01.0: up to date; deployments: none$" out && ok "assess: up to date" || not_ok "$(cat out)"
expect 0 "a deployment record on it" -- "$KILN" deploy create web --tenant acme --family app --version 2026.01.0 --record-only

# a month later: libfoo 1.2 in the security suite
"$TOP/tests/lib/mkrepo.sh" "$T/fx" update > /dev/null || not_ok "mkrepo update"
expect 0 "assess after the security update" -- "$KILN" assess app --json
python3 - <<'PY' && ok "libfoo 1.1 → 1.2, security, CVE-2026-3333 and DSA-6001-1; the deployment named" || not_ok "$(head -c 900 "$T/out")"
import json
(a,) = json.load(open("out"))
assert (a["family"], a["version"], a["up_to_date"], a["security"], a["other"]) == ("app", "2026.01.0", False, 1, 0), a
(x,) = a["pending"]    # libfoo-tools 1.2 too, but the image does not hold it
assert (x["package"], x["installed"], x["candidate"], x["suite"], x["classification"]) == ("libfoo", "1.1", "1.2", "kilntest-security", "security"), x
assert x["cves"] == ["CVE-2026-3333"] and x["advisories"] == ["DSA-6001-1"], x
assert a["deployments"] == ["acme/web"], a["deployments"]
PY
cat > osv.json <<'EOJ'
[{"id": "DSA-7000-1", "aliases": ["CVE-2026-5555"],
  "affected": [{"package": {"ecosystem": "Debian:13", "name": "libfoo"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.2"}]}]}]},
 {"id": "DSA-7001-1", "aliases": ["CVE-2026-6666"],
  "affected": [{"package": {"ecosystem": "Debian:13", "name": "libfoo"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "9.0"}]}]}]}]
EOJ
expect 0 "assess --advisories (OSV)" -- "$KILN" assess app/2026.01.0 --advisories osv.json --json
python3 -c "
import json; (a,) = json.load(open('$T/out')); (x,) = a['pending']
assert x['cves'] == ['CVE-2026-3333', 'CVE-2026-5555'] and x['advisories'] == ['DSA-6001-1', 'DSA-7000-1'], x" &&
	ok "the feed's fix for 1.2 adds its ids; the one fixed only in 9.0 does not" || not_ok "$(head -c 600 out)"
expect 0 "assess, the table" -- "$KILN" assess app/2026.01.0
grep -q "^app/2026.01.0: 1 security, 0 other; deployments: acme/web$" out && grep -qE "^  libfoo +1.1 +1.2 +kilntest-security +security +CVE-2026-3333 DSA-6001-1$" out &&
	ok "the table says the same" || not_ok "$(cat out)"
python3 -c "import json; d=json.load(open('$S/assessments/app/2026.01.0.json')); assert (d['security'], d['other']) == (1, 0), d" &&
	ok "the counts are kept for kiln versions and the API" || not_ok "no counts in $S/assessments"
expect 0 "kiln versions shows them" -- "$KILN" versions --json
python3 -c "import json; (v,) = json.load(open('$T/out')); assert v['pending_security'] == 1 and v['pending_other'] == 0 and v['assessed'] == '2026-02-01T00:00:00Z', v" &&
	ok "versions: pending_security 1, pending_other 0, when assessed" || not_ok "$(head -c 400 out)"

expect 0 "rebake --when security" -- "$KILN" rebake app.recipe --key k --release --when security
grep -q "^app: built app/2026.01.1 (security updates)$" out && grep -q "^app: released app/2026.01.1" out &&
	ok "built and released app/2026.01.1 for the security updates" || not_ok "$(cat out)"
python3 - "$S/app/2026.01.1/manifest.json" <<'PY' && ok "the manifest records why: the reason, the previous version, the updates and their CVE" || not_ok "rebake record"
import json, sys
r = json.load(open(sys.argv[1]))["rebake"]
assert r["reason"] == "security updates" and r["previous"] == "2026.01.0" and r["security"] == 1, r
assert {x["package"]: x["cves"] for x in r["pending"]} == {"libfoo": ["CVE-2026-3333"]}, r
PY
expect 0 "manifest verify of the new version" -- "$KILN" manifest verify app/2026.01.1 --pubkey k.pub
expect 0 "rebake --when security again" -- "$KILN" rebake app.recipe --key k --release --when security
[ "$(cat out)" = "app: up to date (app/2026.01.1)" ] && ok "up to date: built exactly once" || not_ok "$(cat out)"

# a change that is not a security update: --when security waits, --when any builds
printf '\n# a comment changes the recipe, not the image\n' >> app.recipe
expect 0 "a changed recipe, --when security" -- "$KILN" rebake app.recipe --key k --when security
[ "$(cat out)" = "app: up to date (app/2026.01.1)" ] && ok "no security update: not built" || not_ok "$(cat out)"
expect 0 "a changed recipe, --when any" -- "$KILN" rebake app.recipe --key k
grep -q "^app: built app/2026.01.2 (recipe changed)$" out && ok "built for the changed recipe" || not_ok "$(cat out)"
expect 2 "bad --when" -- "$KILN" rebake app.recipe --key k --when sometimes
err_has "bad --when 'sometimes'"

# assess needs the very recipe a version was built from
printf '# tampered\n' >> "$S/app/2026.01.0/recipe"
expect 4 "a kept recipe that is not the manifest's" -- "$KILN" assess app/2026.01.0
err_has "its SHA-256 is not the manifest's recipe.sha256"
rm "$S/app/2026.01.0/recipe"
expect 2 "a version without its recipe" -- "$KILN" assess app/2026.01.0
err_has "has no recipe kept beside its manifest"
expect 0 "... which --recipe supplies" -- "$KILN" assess app/2026.01.0 --recipe app.recipe --json
python3 -c "import json; (a,) = json.load(open('$T/out')); assert a['security'] == 1, a" && ok "assessed against the given recipe" || not_ok "$(head -c 300 out)"
# the units shipped for a daily rebake are ones systemd accepts
if command -v systemd-analyze > /dev/null; then
	sed "s|/usr/local/bin/kiln|$KILN|g" "$TOP/contrib/systemd/kiln-rebake.service" > kiln-rebake.service
	cp "$TOP/contrib/systemd/kiln-rebake.timer" .
	expect 0 "systemd-analyze verify of kiln-rebake.service and .timer" -- systemd-analyze verify ./kiln-rebake.service ./kiln-rebake.timer
fi
test_done
