#!/bin/bash
# t3400-closure.sh - [Packages] Closure=files on real ELF files of the
# generated repository: what stays (the program, its loader, its libraries by
# soname, RUNPATH and symlink, a kept package's /etc, Keep= patterns, a
# script's interpreter), what goes, provenance in files.tsv, the refusals.
. "$(dirname "$0")/../lib/test-lib.sh"
mkrepo
S=$T/store
cl_recipe() {	# FILE INSTALL CLOSURE [KEEP]
	cat > "$1" <<EOR
[Image]
Family=cl
Cmd=/usr/bin/cl-app --serve
ExecStartPre=/usr/bin/cl-check
[Source]
URI=file://$T/fx/repo
Suites=kilntest kilntest-security
Keyring=$T/fx/keyring.gpg
[Kernel]
Package=linux-image-kilntest
Modules=virtio_net
[Packages]
Install=$2
Closure=$3
${4:+Keep=$4}
[Output]
Compression=gzip
EOR
}
tsv() { awk -F'\t' -v p="$1" '$1 == p' "$V/files.tsv"; }
has() { [ -n "$(tsv "$1")" ] && ok "kept: $1 ($2)" || not_ok "kept: $1 ($2)"; }
hasnt() { [ -z "$(tsv "$1")" ] && ok "dropped: $1 ($2)" || not_ok "dropped: $1 ($2)"; }

cl_recipe files.recipe cl-app files "/usr/lib/*/clfoo/*.so /opt/nothing/*"
expect 0 "Closure=files builds" -- "$KILN" build files.recipe --store "$S" --version 2026.01.0
V=$S/cl/2026.01.0
cp "$T/err" build.err
has /usr/bin/cl-app "Cmd="
has /usr/lib64/ld-linux-x86-64.so.2 "its PT_INTERP, through kiln's /lib64 symlink"
has /usr/lib/x86_64-linux-gnu/libclfoo.so.1 "DT_NEEDED by soname: the symlink"
has /usr/lib/x86_64-linux-gnu/libclfoo.so.1.0.0 "and the file it leads to"
has /usr/lib/cl-app/libclpriv.so "DT_NEEDED found by RUNPATH \$ORIGIN/../lib/cl-app"
has /etc/clfoo.conf "the configuration of a package kept for its library"
has /usr/lib/x86_64-linux-gnu/clfoo/plugin.so "a Keep= pattern ('*' crosses '/')"
has /usr/bin/cl-check "ExecStartPre="
has /usr/bin/cl-sh "the interpreter of a kept script"
has /usr/share/kiln-test/cl-app "every non-doc file of an Install= package"
has /usr/bin/cl-garbled "an ELF file kiln cannot read stays"
has /init "what kiln makes"
hasnt /usr/share/clfoo/data "data of a package kept only for its library"
hasnt /usr/bin/cl-unused "a binary nothing runs"
hasnt /etc/cl-unused.conf "configuration of a package with no file kept"
hasnt /usr/share/kiln-test/cl-priv "a dependency's other files"
check "files.tsv names each file's package, '-' for kiln's" -- sh -c "
	[ \"\$(awk -F'\t' '\$1 == \"/usr/lib/cl-app/libclpriv.so\" { print \$7 }' '$V/files.tsv')\" = cl-priv ] &&
	[ \"\$(awk -F'\t' '\$1 == \"/init\" { print \$7 }' '$V/files.tsv')\" = - ] &&
	[ \"\$(awk -F'\t' 'NF != 7' '$V/files.tsv' | wc -l)\" -eq 0 ]"
check "the build's summary counts the packages with files in the image" -- python3 -c "
import json, re, sys
m = re.search(r'^kiln build: cl/2026.01.0: (\d+) packages \((\d+) with files in the image\)', open(sys.argv[1]).read(), re.M)
p = json.load(open(sys.argv[2]))['packages']
assert m and (int(m[1]), int(m[2])) == (len(p), sum(x['in_image'] == 'kept' for x in p)) and int(m[2]) < int(m[1]), m" build.err "$V/manifest.json"
check "the build warns of a Keep= pattern that matches nothing" -- \
	grep -qxF "kiln build: warning: Keep= pattern '/opt/nothing/*' matches nothing in the image" build.err
check "the build names the ELF file it could not read" -- \
	grep -qF "kiln build: warning: '/usr/bin/cl-garbled' (package 'cl-shell') is an ELF file kiln cannot read" build.err
expect 0 "the image is what files.tsv says (verify --deep)" -- \
	"$KILN" manifest verify cl/2026.01.0 --store "$S" --allow-unsigned --deep
initrd_tv "$V/initrd.img" > list
check "the archive holds no dropped file" -- sh -c "! grep -qE 'cl-unused|clfoo/data' list"
check "the archive has as many entries as files.tsv" -- test "$(wc -l < list)" -eq "$(wc -l < "$V/files.tsv")"

# --- provenance in the manifest, and security records true to the image
check "the manifest lists each package kept with its file count, or dropped" -- python3 -c "
import json, sys
p = {x['name']: x for x in json.load(open(sys.argv[1]))['packages']}
assert (p['cl-priv']['in_image'], p['cl-priv']['files']) == ('kept', 1), p['cl-priv']
assert p['cl-app']['in_image'] == 'kept' and p['cl-app']['files'] >= 3, p['cl-app']
for n in ('cl-unused', 'libfoo', 'libfoo-tools'):
    assert (p[n]['in_image'], p[n]['files']) == ('dropped', 0), p[n]" "$V/manifest.json"
expect 0 "manifest vex" -- "$KILN" manifest vex cl/2026.01.0 --store "$S"
check "vex: a dropped package's CVEs are not_affected, vulnerable_code_not_present; none is claimed fixed" -- python3 -c "
import json, sys
st = json.load(open(sys.argv[1]))['statements']
by = {(s['vulnerability']['name'], s['status']): s for s in st}
s = by[('CVE-2026-1111', 'not_affected')]
assert s['justification'] == 'vulnerable_code_not_present', s
assert [c['@id'] for c in s['products'][0]['subcomponents']] == ['pkg:deb/debian/libfoo@1.1?arch=amd64', 'pkg:deb/debian/libfoo-tools@1.1?arch=amd64'], s
assert not [x for x in st if x['status'] == 'fixed'], st" "$T/out"
expect 0 "kiln fixes of a dropped package's CVE" -- "$KILN" fixes CVE-2026-1111 --store "$S" --json
check "fixes: in_image false for the file-level version" -- python3 -c "
import json, sys
v = {x['version']: x for f in json.load(open(sys.argv[1]))['families'] for x in f['versions']}
assert v['2026.01.0']['in_image'] is False, v" "$T/out"
expect 0 "kiln fixes, the table" -- "$KILN" fixes CVE-2026-1111 --store "$S"
check "... says not in the image: not affected" -- grep -q '^cl  *2026.01.0 .*(not in the image: not affected)' "$T/out"
expect 0 "manifest show" -- "$KILN" manifest show cl/2026.01.0 --store "$S"
check "show counts kept and dropped packages and marks a dropped package's update" -- sh -c "
	grep -qE '^packages   [0-9]+ \([0-9]+ with files in the image, [0-9]+ dropped\)' '$T/out' &&
	grep -qE '^libfoo .*CVE-2026-1111.*\(not in the image\)' '$T/out'"

# --- the same recipe keeping whole packages: everything is there
cl_recipe packages.recipe cl-app packages
expect 0 "Closure=packages (the default) builds" -- "$KILN" build packages.recipe --store "$S" --version 2026.01.1
V=$S/cl/2026.01.1
has /usr/bin/cl-unused "Closure=packages keeps every package's files"
has /usr/share/clfoo/data "... data too"
check "the file-level image is smaller" -- test "$(wc -l < "$S/cl/2026.01.0/files.tsv")" -lt "$(wc -l < "$V/files.tsv")"
"$KILN" manifest vex cl/2026.01.1 --store "$S" > vex.json
check "vex: with every package's files, the CVE is fixed" -- python3 -c "
import json, sys
st = json.load(open(sys.argv[1]))['statements']
assert [s['status'] for s in st if s['vulnerability']['name'] == 'CVE-2026-1111'] == ['fixed'], st" vex.json
"$KILN" keygen --out rel.key > /dev/null 2>&1
for v in 2026.01.0 2026.01.1; do "$KILN" build files.recipe --store "$T/rel" --version $v --key rel.key > /dev/null 2>&1; done
"$KILN" build packages.recipe --store "$T/rel" --version 2026.01.1 --key rel.key --force > /dev/null 2>&1
expect 0 "release both" -- sh -c "'$KILN' release cl/2026.01.0 --store '$T/rel' --pubkey rel.key.pub && '$KILN' release cl/2026.01.1 --store '$T/rel' --pubkey rel.key.pub"
check "the catalog's fixes index (what /v1/fixes serves) says which version holds the package" -- python3 -c "
import sqlite3, sys
d = sqlite3.connect(sys.argv[1])
rows = d.execute(\"SELECT version, in_image FROM fixes WHERE id = 'CVE-2026-1111' AND package = 'libfoo' ORDER BY version\").fetchall()
assert rows == [('2026.01.0', 0), ('2026.01.1', 1)], rows" "$T/rel/catalog.db"

# --- refusals: exit 2, one line, nothing in the store
cl_recipe broken.recipe "cl-app cl-broken" files
expect 2 "a kept binary that needs a library nothing provides" -- "$KILN" build broken.recipe --store "$S" --version 2026.01.2
err_has "'/usr/bin/cl-broken' (package 'cl-broken') needs the library 'libgone.so.3', which no package of the image provides"
check "nothing of it in the store" -- test ! -e "$S/cl/2026.01.2"
cl_recipe keep.recipe cl-app packages /usr/share/*
expect 2 "Keep= without Closure=files" -- "$KILN" build keep.recipe --store "$S"
err_has "key 'Keep' in [Packages] needs 'Closure=files'"
cl_recipe bad.recipe cl-app everything
expect 2 "a Closure= that is neither" -- "$KILN" build bad.recipe --store "$S"
err_has "bad value 'everything' for key 'Closure' in [Packages]: 'packages' or 'files'"
cl_recipe rel.recipe cl-app files "usr/share/*"
expect 2 "a relative Keep= pattern" -- "$KILN" build rel.recipe --store "$S"
err_has "bad pattern 'usr/share/*' for key 'Keep' in [Packages]: patterns are absolute paths"

# --- reproducible
expect 0 "built again, in another store" -- "$KILN" build files.recipe --store "$T/again" --version 2026.01.0
check "bit for bit the same image and files.tsv" -- sh -c "
	cmp -s '$S/cl/2026.01.0/initrd.img' '$T/again/cl/2026.01.0/initrd.img' && cmp -s '$S/cl/2026.01.0/files.tsv' '$T/again/cl/2026.01.0/files.tsv'"
test_done
