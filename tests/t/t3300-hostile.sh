#!/bin/bash
# t3300-hostile.sh - what an attacker would try on kiln build and the store:
# recipes reading the host, decompression bombs, a tampered cache, forged
# files.tsv lines, bundles copied to another version, released versions
# rebuilt, leftovers of killed builds. Each case failed before its fix.
. "$(dirname "$0")/../lib/test-lib.sh"
mkrepo
S=$T/store
mkdir -p r/files
echo ok > r/files/ok.txt
# hostile RECIPE-DIR DEST=SOURCE:MODE: a recipe in r/ with one [Files] line
hostile() {
	recipe r/h.recipe "file://$T/fx/repo" "$T/fx/keyring.gpg" app
	printf '[Files]\n%s\n' "$1" >> r/h.recipe
}

# limits RECIPE LIMITS-LINES INSTALL: a recipe with its own [Limits]
limits() {
	local f=$1 lim=$2; shift 2
	hostile "/etc/ok=files/ok.txt:0644"
	sed -i "s/^Install=app$/Install=app $*/" r/h.recipe
	printf '[Limits]\n%b\n' "$lim" >> r/h.recipe
	cp r/h.recipe "r/$f"
}

# --- [Files] sources stay inside the recipe's directory
hostile "/etc/stolen=../../../../../../../../etc/shadow:0644"
expect 2 "a source with .. out of the recipe's directory" -- "$KILN" build r/h.recipe --store "$S"
err_has "r/h.recipe:16: [Files] /etc/stolen: '../../../../../../../../etc/shadow' leads outside 'r'"
ln -s /etc/shadow r/files/shadow
hostile "/etc/stolen=files/shadow:0644"
expect 2 "a symlink leading out of it" -- "$KILN" build r/h.recipe --store "$S"
err_has "r/h.recipe:16: [Files] /etc/stolen: 'files/shadow' leads outside 'r'"
ln -s /proc/self/environ r/files/environ
hostile "/etc/stolen=files/environ:0644"
expect 2 "a symlink to /proc/self/environ" -- "$KILN" build r/h.recipe --store "$S"
err_has "r/h.recipe:16: [Files] /etc/stolen: 'files/environ' leads outside 'r'"
hostile "/etc/stolen=/etc/shadow:0644"
expect 2 "an absolute source" -- "$KILN" build r/h.recipe --store "$S"
err_has "r/h.recipe:16: bad source '/etc/shadow' for key '/etc/stolen' in [Files]: sources are paths inside the recipe's directory"
mkfifo r/files/fifo
hostile "/etc/fifo=files/fifo:0644"
expect 2 "a FIFO does not hang the build" -- timeout 20 "$KILN" build r/h.recipe --store "$S"
err_has "r/h.recipe:16: [Files] /etc/fifo: 'files/fifo' is not a regular file"
truncate -s 65M r/files/big
hostile "/etc/big=files/big:0644"
expect 2 "a source over 64 MiB" -- "$KILN" build r/h.recipe --store "$S"
err_has "r/h.recipe:16: [Files] /etc/big: 'files/big' is too large (68157440 bytes, at most 67108864)"
ln -s ok.txt r/files/link-in
hostile "/etc/ok=files/../files/link-in:0644"
expect 0 "a symlink and a .. that stay inside are fine" -- "$KILN" build r/h.recipe --store "$S" --version 2026.01.0
check "and the file is the one inside" -- test "$(initrd_cat "$S/app/2026.01.0/initrd.img" etc/ok)" = ok

# --- the cache is checked on every use
appsha=$(python3 -c 'import json,sys; print(next(p["sha256"] for p in json.load(open(sys.argv[1]))["packages"] if p["name"] == "app"))' "$S/app/2026.01.0/manifest.json")
tar=$S/cache/data/$appsha.tar
check "the data.tar cache keeps its own hash beside it" -- sh -c "test \"\$(cut -d' ' -f1 '$tar.sha256')\" = \"\$(sha256sum < '$tar' | cut -d' ' -f1)\""
python3 - "$tar" <<'PY'
import sys
p = sys.argv[1]; d = open(p, "rb").read(); assert d.count(b"setting=1") == 1
open(p, "wb").write(d.replace(b"setting=1", b"setting=X"))
PY
expect 4 "a data.tar changed in the cache is refused, not baked in" -- "$KILN" build r/h.recipe --store "$S" --version 2026.01.5
err_has "package 'app': the cached '$tar' changed since kiln made it"
check "nothing was built, and the bad cache file is gone" -- sh -c "test ! -e '$S/app/2026.01.5' && test ! -e '$tar'"
expect 0 "the next build unpacks the verified .deb again" -- "$KILN" build r/h.recipe --store "$S" --version 2026.01.5
check "with the package's own content" -- test "$(initrd_cat "$S/app/2026.01.5/initrd.img" etc/app/app.conf)" = setting=1
deb=$S/cache/sha256/$appsha
python3 - "$deb" <<'PY'
import sys
p = sys.argv[1]; d = bytearray(open(p, "rb").read()); d[-100] ^= 0xff; open(p, "wb").write(bytes(d))
PY
rm -f "$tar" "$tar.sha256"
expect 0 "a .deb damaged in the cache is noticed and fetched again" -- "$KILN" build r/h.recipe --store "$S" --version 2026.01.6
check "the cache holds the signed .deb again" -- test "$(sha256sum < "$deb" | cut -d' ' -f1)" = "$appsha"
check "and the image its content" -- test "$(initrd_cat "$S/app/2026.01.6/initrd.img" etc/app/app.conf)" = setting=1
"$KILN" resolve r/h.recipe --store "$S" > resolve.before
set -- "$S"/cache/solv/*.solv	# two valid parsed indexes, swapped: each now says the other suite's packages
mv "$1" swap.tmp; mv "$2" "$1"; mv swap.tmp "$2"
expect 0 "a swapped .solv cache is not used" -- "$KILN" resolve r/h.recipe --store "$S"
check "the resolution is the verified index's" -- cmp -s "$T/out" resolve.before

# --- what killed builds left behind is cleaned by the next one
sleep 300 & live=$!
dead=999999; while kill -0 $dead 2>/dev/null; do dead=$((dead - 1)); done
head -c 1M /dev/zero > "$S/cache/data/$appsha.tar.tmp.$dead.Ab12Cd"
head -c 1M /dev/zero > "$S/cache/sha256/$appsha.tmp.$dead.Xy34Zw"
head -c 1M /dev/zero > "$S/cache/data/old.tar.tmp.QwErTy"; touch -d '2 hours ago' "$S/cache/data/old.tar.tmp.QwErTy"
head -c 1M /dev/zero > "$S/cache/data/$appsha.tar.tmp.$live.Live01"
expect 0 "a build after killed ones" -- "$KILN" build r/h.recipe --store "$S" --version 2026.01.7
check "temporaries of dead builds are removed" -- \
	sh -c "test ! -e '$S/cache/data/$appsha.tar.tmp.$dead.Ab12Cd' -a ! -e '$S/cache/sha256/$appsha.tmp.$dead.Xy34Zw' -a ! -e '$S/cache/data/old.tar.tmp.QwErTy'"
check "a running build's temporary is left alone" -- test -e "$S/cache/data/$appsha.tar.tmp.$live.Live01"
kill $live; wait $live 2>/dev/null

# --- files.tsv cannot be forged through a package's path
limits nl.recipe 'PackageSize=1G' evil-newline
expect 4 "a path with a newline and tabs is refused" -- "$KILN" build r/nl.recipe --store "$S"
err_has "package 'evil-newline': a control character in the path '/usr/share/x\\n/etc/forged\\t100644\\t0\\t0\\t1\\tab'"
V=$S/app/2026.01.7
cp -a "$V" "$T/v.saved"
printf '/etc/forged\t100644\t0\t0\t1\tab\n' >> "$V/files.tsv"
expect 4 "a line added to files.tsv: its count no longer matches" -- "$KILN" manifest verify app/2026.01.7 --store "$S" --allow-unsigned
err_has "files.tsv"
rm -rf "$V"; cp -a "$T/v.saved" "$V"
python3 - "$V" <<'PY'
import hashlib, json, sys
d = sys.argv[1]; lines = open(d + "/files.tsv").read().splitlines(True)
lines.insert(1, "/etc/x\n"); lines[1] = "/etc/x\x01y\t100644\t0\t0\t1\tab\n"
t = "".join(lines); open(d + "/files.tsv", "w").write(t)
m = json.load(open(d + "/manifest.json")); m["files"]["count"] = len(lines); m["files"]["sha256"] = hashlib.sha256(t.encode()).hexdigest()
json.dump(m, open(d + "/manifest.json", "w"))
PY
expect 4 "a control character in files.tsv, count and hash made to match" -- "$KILN" manifest verify app/2026.01.7 --store "$S" --allow-unsigned
err_has "files.tsv line 2 has a control character"
rm -rf "$V"; cp -a "$T/v.saved" "$V"

# --- a version is verified where it sits
cp -a "$S/app/2026.01.7" "$S/app/2026.01.8"
expect 4 "a complete bundle copied to another version does not verify" -- "$KILN" manifest verify app/2026.01.8 --store "$S" --allow-unsigned --deep
err_has "app/2026.01.8: the manifest is for app/2026.01.7, not app/2026.01.8 (a bundle copied to another version)"
mkdir -p "$S/other"; mv "$S/app/2026.01.8" "$S/other/2026.01.7"
expect 4 "nor one copied to another family" -- "$KILN" manifest verify other/2026.01.7 --store "$S" --allow-unsigned
err_has "the manifest is for app/2026.01.7, not other/2026.01.7"
expect 0 "the original still verifies" -- "$KILN" manifest verify app/2026.01.7 --store "$S" --allow-unsigned --deep

# --- a released version never changes
hostile "/etc/ok=files/ok.txt:0644"
"$KILN" keygen --out rel.key > /dev/null
expect 0 "build a version to release" -- "$KILN" build r/h.recipe --store "$S" --version 2026.01.9 --key rel.key
expect 0 "release it" -- "$KILN" release app/2026.01.9 --store "$S" --pubkey rel.key.pub
sha_before=$(sha256sum < "$S/app/2026.01.9/manifest.json")
expect 3 "build --force cannot replace a released version" -- "$KILN" build r/h.recipe --store "$S" --version 2026.01.9 --force --key rel.key
err_has "app/2026.01.9 is released: a released version never changes; a rebuild gets a new version"
check "its manifest is the released one" -- test "$(sha256sum < "$S/app/2026.01.9/manifest.json")" = "$sha_before"
rm -rf "$S/app/2026.01.9"
expect 3 "nor can a build bring it back after its directory was removed" -- "$KILN" build r/h.recipe --store "$S" --version 2026.01.9
expect 0 "a build without --version takes the next free version, released ones counted" -- "$KILN" build r/h.recipe --store "$S"
check "... which is 2026.01.10" -- test "$(cat "$T/out")" = "$S/app/2026.01.10"

# --- a message that wraps another keeps it whole, on one line
hostile "/etc/ok=files/ok.txt:0644"
sed -i "s|^Keyring=.*|Keyring=$T/no-such-keyring.gpg|" r/h.recipe
expect 2 "a missing keyring" -- "$KILN" resolve r/h.recipe --store "$S"
err_has "kiln resolve: cannot read keyring: cannot open '$T/no-such-keyring.gpg': No such file or directory"

# --- decompression bombs: refused at the header where it can be, bounded always, nothing left behind
limits cum.recipe 'PackageSize=1M' bomb-cumulative
expect 4 "5 x 1000 KiB in one package past PackageSize=1M" -- "$KILN" build r/cum.recipe --store "$S"
err_has "package 'bomb-cumulative': expands to more than 1048576 bytes (1 MiB), the limit for one package ([Limits] PackageSize= raises it)"
limits huge.recipe 'PackageSize=1G' bomb-huge
expect 4 "one entry that says 5 GiB: refused at its header, with the default limit" -- "$KILN" build r/huge.recipe --store "$S"
err_has "package 'bomb-huge': expands to more than 1073741824 bytes (1 GiB), the limit for one package ([Limits] PackageSize= raises it)"
limits ent.recipe 'PackageEntries=100' bomb-entries
expect 4 "300 entries past PackageEntries=100" -- "$KILN" build r/ent.recipe --store "$S"
err_has "package 'bomb-entries': expands to more than 100 entries, the limit for one package ([Limits] PackageEntries= raises it)"
limits links.recipe 'PackageSize=1M' bomb-links
expect 4 "hard links that become copies (another mode than their file's) count as copies" -- "$KILN" build r/links.recipe --store "$S"
err_has "package 'bomb-links': expands to more than 1048576 bytes (1 MiB), the limit for one package"
limits pad.recipe 'PackageSize=1M' bomb-padding
expect 4 "20 MiB after the end of the archive: the raw stream is bounded too" -- "$KILN" build r/pad.recipe --store "$S"
err_has "package 'bomb-padding': expands to more than 1048576 bytes (1 MiB), the limit for one package"
limits img.recipe 'ImageSize=1M' half-a half-b
expect 4 "two packages of 600 KiB past ImageSize=1M" -- "$KILN" build r/img.recipe --store "$S"
err_has "expands to more than 1048576 bytes (1 MiB), the limit for the image ([Limits] ImageSize= raises it)"
limits img.recipe 'ImageSize=2M' half-a half-b
expect 0 "... and within ImageSize=2M they build" -- "$KILN" build r/img.recipe --store "$S" --version 2026.01.1
check "no bomb is left in the cache, nothing half-written anywhere" -- \
	sh -c "! ls '$S/cache/data' | grep -q 'tmp' && [ \$(du -sm '$S' | cut -f1) -lt 20 ] && ! ls -a '$S' | grep -q '^\.build-'"
expect 2 "[Limits] with a bad size" -- "$KILN" build <(sed 's/^PackageSize=.*/PackageSize=12Q/' r/cum.recipe) --store "$S"
err_has "bad value '12Q' for key 'PackageSize' in [Limits]: use a size such as 1G, 512M or 1073741824"
test_done
