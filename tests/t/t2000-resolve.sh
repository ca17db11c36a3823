#!/bin/bash
# t2000-resolve.sh - kiln resolve on a generated, signed repository: choices,
# verification failures, the cache and --offline, http and by-hash.
. "$(dirname "$0")/../lib/test-lib.sh"
mkrepo
S=$T/store

names() { awk 'NR > 1 && NF == 4 { print $1 "=" $2 }' "$T/out" | tr '\n' ' '; }

expect 0 "resolve the fixture" -- "$KILN" resolve app.recipe --store "$S"
got=$(names)
want="alt-a=1.0 alt-a-helper=1.0 alt-c=1.0 app=1.0 libbar-compat=1.0 libfoo=1.1 libsys=252 merged-helper=1.0 merged-tool=37 preinst-lib=1.0 tinymta=1.0 tools=1.0 virt-real=2.0 "
[ "$got" = "$want" ] && ok "closure and versions as apt chooses" || not_ok "closure: got '$got'"
grep -q '^libfoo .* kilntest-security$' "$T/out" && ok "the -security version wins" || not_ok "security version"
grep -q '^extra ' "$T/out" && not_ok "Recommends were installed" || ok "Recommends are not installed"
grep -q '^kmod ' "$T/out" && not_ok "the kernel's dependencies were installed" || ok "the kernel's own dependencies are not in the image"
grep -q 'kernel linux-image-6.1.0-9-kilntest 6.1.99-1' "$T/out" && ok "the kernel metapackage leads to the concrete package" || not_ok "kernel"

expect 0 "resolve --json" -- "$KILN" resolve app.recipe --store "$S" --json
check "JSON records carry name, version, arch, suite, uri, filename, size, sha256" -- python3 - "$T/out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
p = {x["name"]: x for x in d["packages"]}
f = p["libfoo"]
assert f["version"] == "1.1" and f["suite"] == "kilntest-security" and f["arch"] == "amd64"
assert f["filename"].startswith("pool/kilntest-security/libfoo_1.1_amd64.deb"), f
assert f["size"] > 0 and len(f["sha256"]) == 64 and f["uri"].startswith("file://")
assert d["kernel"]["package"] == "linux-image-6.1.0-9-kilntest" and d["kernel"]["release"] == "6.1.0-9-kilntest"
assert [s["suite"] for s in d["sources"]] == ["kilntest", "kilntest-security"]
assert all(len(s["inrelease_sha256"]) == 64 for s in d["sources"])
PY

# apt itself, offline on the same repository, must choose the same set.
mkdir -p apt/lists/partial apt/cache/archives/partial apt/etc/sources.list.d apt/etc/preferences.d
: > apt/status
echo "deb [signed-by=$T/fx/keyring.gpg] file://$T/fx/repo kilntest main
deb [signed-by=$T/fx/keyring.gpg] file://$T/fx/repo kilntest-security main" > apt/etc/sources.list
APT=(-o Dir::Etc="$T/apt/etc" -o Dir::State::Lists="$T/apt/lists" -o Dir::Cache="$T/apt/cache"
     -o Dir::State::status="$T/apt/status" -o APT::Install-Recommends=false -o Debug::NoLocking=1
     -o APT::Architecture=amd64 -o Acquire::Languages=none)
apt_same() {	# PACKAGE...: apt and kiln choose the same set
	recipe apt.recipe "file://$T/fx/repo" "$T/fx/keyring.gpg" "$@"
	"$KILN" resolve apt.recipe --store "$S" > "$T/out" 2>&1
	apt-get "${APT[@]}" -s install "$@" 2>>apt/log | awk '/^Inst /{print $2, substr($3, 2)}' | sort |
		awk '{print $1 "=" $2}' | tr '\n' ' ' > apt/set
	[ -s apt/set ] && [ "$(cat apt/set)" = "$(names)" ] && ok "apt-get -s install $* chooses the same set" ||
		not_ok "apt-get -s install $*: apt '$(cat apt/set)', kiln '$(names)'"
}
if apt-get "${APT[@]}" -qq update > apt/log 2>&1; then
	apt_same app
	apt_same app alt-b libelog
	apt_same svc-like
else
	not_ok "apt-get update on the fixture"; cat apt/log
fi

expect 0 "an ASCII-armored keyring works too" -- "$KILN" resolve --store "$T/s-asc" \
	<(recipe /dev/stdout "file://$T/fx/repo" "$T/fx/keyring.asc" app)

# --- the cache and --offline
check "indexes are cached by sha256" -- test "$(ls "$S/cache/sha256" | wc -l)" -ge 4
expect 0 "--offline works from a warm cache" -- "$KILN" resolve app.recipe --store "$S" --offline
mv fx/repo fx/repo.away
expect 0 "--offline needs no repository at all" -- "$KILN" resolve app.recipe --store "$S" --offline
expect 5 "without the repository and online: fetch error" -- "$KILN" resolve app.recipe --store "$S"
err_has "cannot fetch 'file://$T/fx/repo/dists/kilntest/InRelease'"
mv fx/repo.away fx/repo
expect 5 "--offline with a cold cache" -- "$KILN" resolve app.recipe --store "$T/cold" --offline
err_has "--offline forbids fetching it"

# --- requests that cannot be met: exit 2
recipe nosuch.recipe "file://$T/fx/repo" "$T/fx/keyring.gpg" app no-such-package
expect 2 "an unknown package" -- "$KILN" resolve nosuch.recipe --store "$S"
err_has "package 'no-such-package' is not in any of the recipe's sources"
recipe missing.recipe "file://$T/fx/repo" "$T/fx/keyring.gpg" needs-missing
expect 2 "an unsatisfiable dependency" -- "$KILN" resolve missing.recipe --store "$S"
err_has "nothing provides does-not-exist"
recipe conflict.recipe "file://$T/fx/repo" "$T/fx/keyring.gpg" conflicted
expect 2 "a version constraint nothing meets" -- "$KILN" resolve conflict.recipe --store "$S"
err_has "cannot resolve:"
recipe virt.recipe "file://$T/fx/repo" "$T/fx/keyring.gpg" mail-transport-agent
expect 2 "a virtual package in Install=" -- "$KILN" resolve virt.recipe --store "$S"
err_has "is virtual: name one of its providers in Install= (tinymta)"
recipe pick.recipe "file://$T/fx/repo" "$T/fx/keyring.gpg" app alt-b libelog
expect 0 "a recipe can name the other alternative" -- "$KILN" resolve pick.recipe --store "$S"
grep -q '^alt-b ' "$T/out" && grep -q '^libelog ' "$T/out" && ! grep -q '^libsys ' "$T/out" &&
	ok "alt-b and libelog (which conflicts with libsys) are taken" || not_ok "explicit alternatives"

# --- integrity failures: exit 4, and nothing unverified in the cache
cp -a fx/repo pristine
resign() { GNUPGHOME=$T/fx/gnupg gpg --batch --quiet --yes --pinentry-mode loopback --passphrase '' \
	--digest-algo SHA512 --clearsign -o "$1/InRelease" "$1/Release"; GNUPGHOME=$T/fx/gnupg gpgconf --kill gpg-agent; }
restore() { rm -rf fx/repo; cp -a pristine fx/repo; }

P=fx/repo/dists/kilntest/main/binary-amd64/Packages.xz
python3 -c 'import sys; p = sys.argv[1]; d = bytearray(open(p, "rb").read()); d[100] ^= 0xff; open(p, "wb").write(bytes(d))' "$P"	# flipped: always a change
expect 4 "a tampered Packages index" -- "$KILN" resolve app.recipe --store "$T/s1"
err_has "Packages.xz': does not match the signed index: expected SHA256"
check "nothing was cached" -- test -z "$(ls -A "$T/s1/cache/sha256" 2>/dev/null)"
restore

sed -i 's/^Origin: kiln-test/Origin: kiln-evil/' fx/repo/dists/kilntest/InRelease
expect 4 "an InRelease altered after signing" -- "$KILN" resolve app.recipe --store "$T/s2"
err_has "dists/kilntest/InRelease': bad OpenPGP signature"
check "nothing was cached" -- test ! -e "$T/s2/cache/sha256"
restore

recipe other.recipe "file://$T/fx/repo" "$T/fx/other.gpg" app
expect 4 "a signature by a key not in the keyring" -- "$KILN" resolve other.recipe --store "$T/s3"
err_has "signed by a key that is not in the keyring"

cp fx/repo/dists/kilntest/Release fx/repo/dists/kilntest/InRelease
expect 4 "an unsigned InRelease" -- "$KILN" resolve app.recipe --store "$T/s4"
err_has "no valid OpenPGP signature"
restore

rm -rf fx/repo/dists/kilntest
cp -a pristine/dists/kilntest-security fx/repo/dists/kilntest
expect 4 "a signed index of another suite (replay)" -- "$KILN" resolve app.recipe --store "$T/s5"
err_has "signed index is for suite 'kilntest-security'"
restore

expect 4 "an index past its Valid-Until" -- "$KILN" resolve app.recipe --store "$T/s6" --now 2027-07-01
err_has "index expired at 2027-06-01T00:00:00Z (Valid-Until)"
expect 0 "--allow-expired accepts it" -- "$KILN" resolve app.recipe --store "$T/s6" --now 2027-07-01 --allow-expired
KILN_NOW=2027-07-01 expect 4 "KILN_NOW sets the clock too" -- "$KILN" resolve app.recipe --store "$T/s6"

# --- over http, with by-hash (the -security suite says Acquire-By-Hash: yes)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server --bind 127.0.0.1 --directory "$T/fx/repo" "$port" > http.log 2>&1 &
srv=$!
for _ in $(seq 50); do grep -q . http.log 2>/dev/null && break; curl -s "http://127.0.0.1:$port/" >/dev/null && break; sleep 0.1; done
recipe http.recipe "http://127.0.0.1:$port" "$T/fx/keyring.gpg" app
expect 0 "resolve over http" -- "$KILN" resolve http.recipe --store "$T/s7"
grep -q 'kilntest-security/main/binary-amd64/by-hash/SHA256/' http.log && ok "the -security index came by hash" || not_ok "by-hash not used"
kill $srv; wait $srv 2>/dev/null
expect 5 "a server that is gone" -- "$KILN" resolve http.recipe --store "$T/s8"
err_has "cannot fetch 'http://127.0.0.1:$port/dists/kilntest/InRelease'"
expect 0 "...but the warm cache still answers offline" -- "$KILN" resolve http.recipe --store "$T/s7" --offline
test_done
