#!/bin/bash
# t4000-manifest.sh - signed manifests: keygen, signing, verify (and what
# tampering does to it), security updates from changelogs, chain, diff, vex, fixes.
. "$(dirname "$0")/../lib/test-lib.sh"
mkrepo
recipe img.recipe "file://$T/fx/repo" "$T/fx/keyring.gpg" app libfoo-tools
sed -i 's|^Cmd=.*|Cmd=/usr/bin/app|' img.recipe
printf '[Output]\nCompression=gzip\n' >> img.recipe
S=$T/store
export KILN_STORE=$S

# --- keys
expect 0 "keygen" -- "$KILN" keygen --out release.key
[ "$(stat -c %a release.key)" = 600 ] && ok "the private key is 0600" || not_ok "mode $(stat -c %a release.key)"
grep -q 'BEGIN PUBLIC KEY' release.key.pub && ok "the public key is PEM" || not_ok "release.key.pub"
cp release.key before
expect 2 "keygen never overwrites a key" -- "$KILN" keygen --out release.key
cmp -s release.key before && ok "the key is untouched" || not_ok "the key changed"
expect 2 "keygen without --out" -- "$KILN" keygen
"$KILN" keygen --out other.key > /dev/null

# --- a signed build
expect 0 "build --key" -- "$KILN" build img.recipe --key release.key
V1=$S/app/2026.01.0
check "manifest.json.sig is there" -- test -s "$V1/manifest.json.sig"
expect 0 "verify" -- "$KILN" manifest verify app/2026.01.0 --pubkey release.key.pub
expect 0 "verify --deep" -- "$KILN" manifest verify app/2026.01.0 --pubkey release.key.pub --deep
grep -q 'matches files.tsv' "$T/out" && ok "--deep checked every file" || not_ok "--deep report: $(cat "$T/out")"
check "security updates come from the changelogs" -- python3 - "$V1/manifest.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
u = {x["package"]: x for x in m["security_updates"]}
assert set(u) == {"libfoo", "libfoo-tools"}, u.keys()
f = u["libfoo"]
assert f["version"] == "1.1" and f["previous"] == "1.0" and f["suite"] == "kilntest-security", f
assert f["classification"] == "security"
assert f["cves"] == ["CVE-2026-1111", "CVE-2026-2222"], f["cves"]       # not 1.0's, not XCVE-…
assert f["advisories"] == ["DSA-5999-1"], f["advisories"]
assert u["libfoo-tools"]["cves"] == f["cves"], "a doc-dir symlink leads to libfoo's changelog"
assert m["previous_manifest"] is None
PY

# --- tampering: one byte anywhere is exit 4, naming what differs
cp -a "$V1" pristine
restore() { rm -rf "$V1"; cp -a pristine "$V1"; }
# flip FILE CHAR OFFSET: writes CHAR there, or, if the byte is CHAR already, its complement: always a change
flip() { python3 -c 'import sys; p, c, o = sys.argv[1], ord(sys.argv[2]), int(sys.argv[3]); d = bytearray(open(p, "rb").read()); d[o] = c if d[o] != c else c ^ 0xff; open(p, "wb").write(bytes(d))' "$1" "$2" "$3"; }
flip "$V1/manifest.json" ' ' 40
expect 4 "a manifest changed after signing" -- "$KILN" manifest verify app/2026.01.0 --pubkey release.key.pub
err_has "the signature does not verify"
restore
expect 4 "the wrong public key" -- "$KILN" manifest verify app/2026.01.0 --pubkey other.key.pub
err_has "does not verify with 'other.key.pub'"
flip "$V1/initrd.img" X 1000
expect 4 "one byte of initrd.img" -- "$KILN" manifest verify app/2026.01.0 --pubkey release.key.pub
err_has "initrd.img has SHA256"
restore
flip "$V1/vmlinuz" X 10
expect 4 "one byte of vmlinuz" -- "$KILN" manifest verify app/2026.01.0 --pubkey release.key.pub
err_has "vmlinuz has SHA256"
restore
sed -i '1s/^/x/' "$V1/files.tsv"
expect 4 "a changed files.tsv" -- "$KILN" manifest verify app/2026.01.0 --pubkey release.key.pub
err_has "files.tsv has SHA256"
restore
rm "$V1/manifest.json.sig"
expect 4 "an unsigned manifest" -- "$KILN" manifest verify app/2026.01.0 --pubkey release.key.pub
err_has "unsigned (no manifest.json.sig"
expect 0 "... accepted with --allow-unsigned" -- "$KILN" manifest verify app/2026.01.0 --allow-unsigned
echo 'not base64!' > "$V1/manifest.json.sig"
expect 4 "a garbage signature" -- "$KILN" manifest verify app/2026.01.0 --pubkey release.key.pub
restore
head -c 100 pristine/manifest.json > "$V1/manifest.json"; rm "$V1/manifest.json.sig"
expect 2 "a truncated manifest" -- "$KILN" manifest verify app/2026.01.0 --allow-unsigned
restore

# --deep: a file changed inside the initramfs, with the manifest's hash fixed up (unsigned)
python3 - "$V1" <<'PY'
import gzip, hashlib, json, os, sys
d = sys.argv[1]
raw = gzip.decompress(open(os.path.join(d, "initrd.img"), "rb").read())
i = raw.index(b"setting=1")
raw = raw[:i] + b"setting=2" + raw[i + 9:]
data = gzip.compress(raw, mtime=0)
open(os.path.join(d, "initrd.img"), "wb").write(data)
m = json.load(open(os.path.join(d, "manifest.json")))
for a in m["artifacts"]:
    if a["name"] == "initrd.img":
        a["size"], a["sha256"] = len(data), hashlib.sha256(data).hexdigest()
open(os.path.join(d, "manifest.json"), "w").write(json.dumps(m, indent=2, sort_keys=True))
os.remove(os.path.join(d, "manifest.json.sig"))
PY
expect 0 "a consistent but altered image passes the shallow check" -- "$KILN" manifest verify app/2026.01.0 --allow-unsigned
expect 4 "... not --deep" -- "$KILN" manifest verify app/2026.01.0 --allow-unsigned --deep
err_has "initrd.img differs from files.tsv at '/etc/app/app.conf'"
restore

# --- a month later: a new security update, a chained manifest
"$TOP/tests/lib/mkrepo.sh" "$T/fx" update || not_ok "mkrepo update"
expect 0 "the next build" -- "$KILN" build img.recipe --key release.key --version 2026.01.1
V2=$S/app/2026.01.1
check "it links the previous manifest" -- python3 - "$V2/manifest.json" "$(sha256sum < "$V1/manifest.json" | cut -d' ' -f1)" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
assert m["previous_manifest"] == {"version": "2026.01.0", "sha256": sys.argv[2]}, m["previous_manifest"]
u = {x["package"]: x for x in m["security_updates"]}
assert u["libfoo"]["previous"] == "1.1" and u["libfoo"]["cves"] == ["CVE-2026-3333"], u["libfoo"]
assert u["libfoo"]["fixed_cves"] == ["CVE-2026-1111", "CVE-2026-2222", "CVE-2026-3333"], u["libfoo"]
PY
expect 0 "verify checks the chain" -- "$KILN" manifest verify app/2026.01.1 --pubkey release.key.pub
grep -q '^ok chained to app/2026.01.0' "$T/out" && ok "chained to 2026.01.0" || not_ok "chain: $(cat "$T/out")"
sed -i 's/"1.1"/"1.0"/' "$V1/manifest.json"
expect 4 "a rewritten previous manifest breaks the chain" -- "$KILN" manifest verify app/2026.01.1 --pubkey release.key.pub
err_has "the previous manifest app/2026.01.0 has SHA256"
restore

expect 0 "manifest show" -- "$KILN" manifest show app/2026.01.1
grep -qE '^libfoo +1.2 +1.1 +security +CVE-2026-3333 DSA-6001-1$' "$T/out" && ok "show's table of security updates" || not_ok "show: $(cat "$T/out")"
expect 0 "manifest show --json" -- "$KILN" manifest show app/2026.01.1 --json
cmp -s "$T/out" "$V2/manifest.json" && ok "--json is the manifest itself" || not_ok "show --json"

expect 0 "manifest diff" -- "$KILN" manifest diff app/2026.01.0 app/2026.01.1 --json
check "diff: upgraded and new security updates" -- python3 - "$T/out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert {"name": "libfoo", "from": "1.1", "to": "1.2"} in d["upgraded"], d["upgraded"]
assert not d["added"] and not d["removed"]
s = {x["package"]: x for x in d["security_updates"]}
assert s["libfoo"]["cves"] == ["CVE-2026-3333"] and s["libfoo"]["previous"] == "1.1"
assert [a["name"] for a in d["artifacts"]] == ["initrd.img", "vmlinuz"]
PY
expect 0 "manifest diff (table)" -- "$KILN" manifest diff app/2026.01.0 app/2026.01.1
grep -q 'upgraded  libfoo .* 1.1 → 1.2' "$T/out" && ok "diff table" || not_ok "diff table: $(cat "$T/out")"

expect 0 "fixes CVE-2026-1111" -- "$KILN" fixes CVE-2026-1111 --json
check "in both versions, first in 2026.01.0 (fixes are cumulative)" -- python3 - "$T/out" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
f = r["families"]
assert len(f) == 1 and f[0]["family"] == "app" and f[0]["first"] == "2026.01.0", f
assert sorted({v["version"] for v in f[0]["versions"]}) == ["2026.01.0", "2026.01.1"]
PY
expect 0 "fixes CVE-2026-3333" -- "$KILN" fixes CVE-2026-3333
grep -q '^app  *2026.01.1  *libfoo  *1.2   (first)$' "$T/out" && ! grep -q '2026.01.0' "$T/out" && ok "only in 2026.01.1" || not_ok "fixes: $(cat "$T/out")"
expect 0 "fixes DSA-5999-1" -- "$KILN" fixes DSA-5999-1
grep -q '2026.01.0' "$T/out" && ok "DSA ids are found too" || not_ok "DSA: $(cat "$T/out")"
expect 0 "a fix no image has" -- "$KILN" fixes CVE-2025-0001
grep -q 'no image version' "$T/out" && ok "says so" || not_ok "$(cat "$T/out")"
expect 2 "fixes with a bad id" -- "$KILN" fixes heartbleed

expect 0 "manifest vex" -- "$KILN" manifest vex app/2026.01.1
check "an OpenVEX document with fixed statements" -- python3 - "$T/out" "$(sha256sum < "$V2/manifest.json" | cut -d' ' -f1)" <<'PY'
import json, sys
v = json.load(open(sys.argv[1]))
assert v["@context"] == "https://openvex.dev/ns/v0.2.0" and v["@id"] == "urn:kiln:image:app/2026.01.1"
s = {x["vulnerability"]["name"]: x for x in v["statements"]}
assert set(s) == {"CVE-2026-1111", "CVE-2026-2222", "CVE-2026-3333"}, set(s)
x = s["CVE-2026-3333"]
assert x["status"] == "fixed"
p = x["products"][0]
assert p["hashes"]["sha-256"] == sys.argv[2]
assert {"@id": "pkg:deb/debian/libfoo@1.2?arch=amd64"} in p["subcomponents"], p
PY
# --- advisory feeds: OSV records and the security tracker's JSON
cat > osv.json <<'EOJ'
[{"id": "DSA-7000-1", "aliases": ["CVE-2026-5555"],
  "affected": [{"package": {"ecosystem": "Debian:13", "name": "libfoo"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.2"}]}]}]},
 {"id": "DSA-7001-1", "aliases": ["CVE-2026-6666"],
  "affected": [{"package": {"ecosystem": "Debian:13", "name": "libfoo"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "9.0"}]}]}]}]
EOJ
cat > tracker.json <<'EOJ'
{"libfoo": {"CVE-2026-7777": {"releases": {"kilntest": {"status": "resolved", "fixed_version": "1.1"},
                                            "other": {"status": "resolved", "fixed_version": "1.1"}}},
            "CVE-2026-8888": {"releases": {"kilntest": {"status": "open"}}}}}
EOJ
expect 0 "build --advisories (OSV)" -- "$KILN" build img.recipe --advisories osv.json --version 2026.01.5
expect 0 "build --advisories (tracker)" -- "$KILN" build img.recipe --advisories tracker.json --version 2026.01.6
check "the feeds' fixes are listed, only those the chosen version has" -- python3 - "$S/app/2026.01.5/manifest.json" "$S/app/2026.01.6/manifest.json" <<'PY'
import json, sys
osv = {x["package"]: x for x in json.load(open(sys.argv[1]))["security_updates"]}
assert "CVE-2026-5555" in osv["libfoo"]["fixed_cves"], osv["libfoo"]
# the previous image (2026.01.1) had libfoo 1.2 already: nothing is new since it
assert osv["libfoo"]["previous"] == "1.2" and osv["libfoo"]["cves"] == [] and osv["libfoo"]["advisories"] == [], osv["libfoo"]
assert "CVE-2026-6666" not in osv["libfoo"]["fixed_cves"], "fixed only in 9.0: not in 1.2"
trk = {x["package"]: x for x in json.load(open(sys.argv[2]))["security_updates"]}
assert "CVE-2026-7777" in trk["libfoo"]["fixed_cves"], trk["libfoo"]
assert "CVE-2026-8888" not in trk["libfoo"]["fixed_cves"]
PY
echo '{"nothing": ' > broken.json
expect 2 "a broken advisory feed" -- "$KILN" build img.recipe --advisories broken.json --version 2026.01.7
err_has "broken.json:"
check "it left no version" -- test ! -e "$S/app/2026.01.7"

expect 2 "manifest with an unknown subcommand" -- "$KILN" manifest frob
expect 2 "manifest verify without an image" -- "$KILN" manifest verify
test_done
