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
Suites=kilntest
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
check "the build warns of a Keep= pattern that matches nothing" -- \
	grep -qxF "kiln build: warning: Keep= pattern '/opt/nothing/*' matches nothing in the image" build.err
check "the build names the ELF file it could not read" -- \
	grep -qF "kiln build: warning: '/usr/bin/cl-garbled' (package 'cl-shell') is an ELF file kiln cannot read" build.err
expect 0 "the image is what files.tsv says (verify --deep)" -- \
	"$KILN" manifest verify cl/2026.01.0 --store "$S" --allow-unsigned --deep
bsdtar -tf "$V/initrd.img" > list
check "the archive holds no dropped file" -- sh -c "! grep -qE 'cl-unused|clfoo/data' list"
check "the archive has as many entries as files.tsv" -- test "$(wc -l < list)" -eq "$(wc -l < "$V/files.tsv")"

# --- the same recipe keeping whole packages: everything is there
cl_recipe packages.recipe cl-app packages
expect 0 "Closure=packages (the default) builds" -- "$KILN" build packages.recipe --store "$S" --version 2026.01.1
V=$S/cl/2026.01.1
has /usr/bin/cl-unused "Closure=packages keeps every package's files"
has /usr/share/clfoo/data "... data too"
check "the file-level image is smaller" -- test "$(wc -l < "$S/cl/2026.01.0/files.tsv")" -lt "$(wc -l < "$V/files.tsv")"

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
