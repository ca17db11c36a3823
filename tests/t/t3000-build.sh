#!/bin/bash
# t3000-build.sh - kiln build on the generated repository: the image's
# content, reproducibility, versions, atomicity, unsafe packages.
. "$(dirname "$0")/../lib/test-lib.sh"
mkrepo
echo "hello from the recipe" > motd
build_recipe() {	# FILE INSTALL... : a complete recipe for the fixture
	local f=$1; shift
	cat > "$f" <<EOR
[Image]
Family=app
Cmd=/usr/bin/app --serve
User=app
Environment=MODE=test
[Source]
URI=file://$T/fx/repo
Suites=kilntest kilntest-security
Keyring=$T/fx/keyring.gpg
[Kernel]
Package=linux-image-kilntest
Cmdline=console=ttyS0
Modules=virtio_net virtio_pci
[Packages]
Install=$*
[Files]
/etc/motd=motd:0640
[Users]
app=1000:1000:/var/lib/app
[Output]
Compression=gzip
EOR
}
build_recipe app.recipe app
S=$T/store

# --- a full build as an unprivileged user
if [ "$(id -u)" -eq 0 ]; then
	chmod 755 "$T"; chmod -R a+rX "$T/fx" "$T/app.recipe" "$T/motd"
	mkdir -p "$S"; chown 65534:65534 "$S"
	AS=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
else
	AS=()
fi
expect 0 "build as an unprivileged user" -- "${AS[@]}" "$KILN" build app.recipe --store "$S"
V=$S/app/2026.01.0
[ "$(tail -1 "$T/out")" = "$V" ] && ok "the version's path is printed last" || not_ok "printed '$(tail -1 "$T/out")'"
for f in vmlinuz initrd.img manifest.json files.tsv; do
	[ -s "$V/$f" ] && ok "$f is there" || not_ok "$f is missing"
done
cmp -s "$V/vmlinuz" fx/build/linux-image-6.1.0-9-kilntest-6.1.99-1/boot/vmlinuz-6.1.0-9-kilntest &&
	ok "vmlinuz is the kernel package's" || not_ok "vmlinuz differs"

# --- what the initramfs holds (every segment)
initrd_tv "$V/initrd.img" > list 2> list.err || not_ok "cannot read initrd.img: $(cat list.err)"
has() { grep -qE "$1" list && ok "initrd: $2" || { not_ok "initrd: $2"; grep -E "${3:-$1}" list | head -3; }; }
hasnt() { grep -qE "$1" list && not_ok "initrd: $2" || ok "initrd: $2"; }
has '^-rwxr-xr-x +[0-9]+ 0 +0 .* init$' "/init is kiln-init, 0755, root"
has '^-rw-r--r-- .* etc/passwd$' "/etc/passwd is 0644"
has '^-rw-r----- .* etc/motd$' "a [Files] entry keeps its mode"
has '^lrwxrwxrwx .* bin -> usr/bin$' "/bin is a symlink to usr/bin (merged /usr)"
has '^-rwxr-xr-x .* usr/bin/app$' "/bin/app of the package lands in /usr/bin"
has ' usr/lib/x86_64-linux-gnu/libapp.so -> libapp.so.1$' "package symlinks are kept"
has '^-rwxr-xr-x +2 .* usr/bin/app-hardlink link to usr/bin/app$' "a hard link stays a hard link (one copy of the content)" 'app-hardlink'
grep -qE '^-rwxr-xr-x +2 .* usr/bin/app$' list && ok "initrd: its first name carries the content, with two links" ||
	not_ok "initrd: the hard link's first name"
has '^crw------- .* dev/console$' "/dev/console exists for PID 1"
has '^drwxr-x--- +[0-9]+ 1000 +1000 .* var/lib/app$' "the user's home is owned by it"
has 'usr/lib/modules/6.1.0-9-kilntest/kernel/drivers/net/virtio_net.ko$' "the requested module"
has 'usr/lib/modules/6.1.0-9-kilntest/kernel/net/core/failover.ko$' "its dependencies' dependencies"
hasnt 'virtio_blk.ko' "modules nobody asked for stay out"
hasnt 'usr/share/doc/' "docs are excluded by default"
hasnt 'boot/vmlinuz' "vmlinuz is not in the initramfs"
hasnt '(^| )kmod|initramfs-tools' "the kernel's own dependencies are not installed"
initrd_cat "$V/initrd.img" etc/kiln/init > init.conf
grep -qx 'arg=/usr/bin/app' init.conf && grep -qx 'arg=--serve' init.conf && grep -qx 'uid=1000' init.conf &&
	grep -qx 'env=MODE=test' init.conf && ok "kiln-init's config: command, user, environment" || not_ok "init.conf: $(cat init.conf)"
[ "$(grep '^module=' init.conf | sed 's|.*/||' | tr '\n' ' ')" = "failover.ko net_failover.ko virtio_net.ko " ] &&
	ok "modules load dependencies first" || not_ok "module order: $(grep module= init.conf)"
initrd_cat "$V/initrd.img" usr/lib/modules/6.1.0-9-kilntest/modules.dep | grep -qx 'kernel/drivers/net/virtio_net.ko: kernel/drivers/net/net_failover.ko kernel/net/core/failover.ko' &&
	ok "modules.dep is generated" || not_ok "modules.dep"
initrd_cat "$V/initrd.img" etc/passwd | grep -qx 'app:x:1000:1000:app:/var/lib/app:/usr/sbin/nologin' && ok "passwd from [Users]" || not_ok "passwd"
[ "$(initrd_tv "$V/initrd.img" | awk '{print $3 $4}' | sort -u | tr '\n' ' ')" = "00 10001000 " ] &&
	ok "owners come from the archives, not from the builder" || not_ok "owners"
check "files.tsv is sorted and lists /init" -- sh -c "sort -c '$V/files.tsv' && grep -q '^/init	100755	0	0	' '$V/files.tsv'"
fields() { awk -F'\t' -v p="$1" '$1 == p { print $2, $5, $6, $7 }' "$V/files.tsv"; }
check "files.tsv gives the hard link its file's mode, size, hash and package" -- \
	test "$(fields /usr/bin/app-hardlink)" = "$(fields /usr/bin/app)" -a -n "$(fields /usr/bin/app)"
check "files.tsv names the package of each file, '-' for kiln's" -- \
	test "$(fields /usr/bin/app | cut -d' ' -f4)$(fields /init | cut -d' ' -f4)" = "app-"
check "the manifest records packages, kernel and artifacts" -- python3 - "$V" <<'PY'
import hashlib, json, os, sys
d = sys.argv[1]
m = json.load(open(os.path.join(d, "manifest.json")))
assert m["schema"] == "kiln.manifest/1" and m["family"] == "app" and m["version"] == "2026.01.0"
assert m["built"] == "2026-01-01T00:00:00Z"
assert {p["name"] for p in m["packages"]} >= {"app", "libfoo"}
assert m["kernel"]["release"] == "6.1.0-9-kilntest" and m["kernel"]["modules"] == ["failover", "net_failover", "virtio_net"]
for a in m["artifacts"]:
    data = open(os.path.join(d, a["name"]), "rb").read()
    assert a["size"] == len(data) and a["sha256"] == hashlib.sha256(data).hexdigest(), a
f = open(os.path.join(d, "files.tsv"), "rb").read()
assert m["files"]["sha256"] == hashlib.sha256(f).hexdigest() and m["files"]["count"] == f.count(b"\n")
PY

# --- reproducible: another store, another time, another umask: the same bytes
(umask 077; KILN_STORE=$T/store2 "$KILN" build app.recipe --now 2027-01-01 > /dev/null 2>&1)
for f in initrd.img vmlinuz manifest.json files.tsv; do
	cmp -s "$V/$f" "$T/store2/app/2026.01.0/$f" && ok "$f is bit-identical on a second build" || not_ok "$f differs between builds"
done

# --- versions
expect 0 "the next build of the month is .1" -- "$KILN" build app.recipe --store "$S"
[ "$(tail -1 "$T/out")" = "$S/app/2026.01.1" ] && ok "2026.01.1" || not_ok "got $(tail -1 "$T/out")"
expect 2 "building an existing version again is refused" -- "$KILN" build app.recipe --store "$S" --version 2026.01.0
err_has "app/2026.01.0 is already built (--force rebuilds it)"
expect 0 "--force rebuilds it" -- "$KILN" build app.recipe --store "$S" --version 2026.01.0 --force
expect 2 "a bad --version" -- "$KILN" build app.recipe --store "$S" --version 26.1
err_has "bad version '26.1'"

# --- atomic: a failure or a kill leaves no version behind
KILN_TEST_FAIL_BEFORE_PUBLISH=1 expect 1 "an injected failure" -- "$KILN" build app.recipe --store "$S" --version 2026.01.7
check "no version directory after a failure" -- test ! -e "$S/app/2026.01.7"
check "and no build directory" -- sh -c "! ls -a '$S' | grep -q '^.build-'"
KILN_TEST_PAUSE_BEFORE_PUBLISH=30 "$KILN" build app.recipe --store "$S" --version 2026.01.8 > /dev/null 2>&1 &
pid=$!
for _ in $(seq 100); do ls -a "$S" | grep -q "^.build-$pid-" && break; sleep 0.1; done
sleep 0.3
kill -9 $pid; wait $pid 2>/dev/null
check "a build killed midway leaves no version directory" -- test ! -e "$S/app/2026.01.8"
expect 0 "the next build cleans up after it" -- "$KILN" build app.recipe --store "$S" --version 2026.01.9
check "the killed build's directory is gone" -- sh -c "! ls -a '$S' | grep -q '^.build-'"

# --- packages that must not be baked
build_recipe bad.recipe app evil-dotdot
expect 4 "a '..' path in a package" -- "$KILN" build bad.recipe --store "$S" --version 2026.01.20
err_has "package 'evil-dotdot': unsafe path './usr/../../etc/evil'"
build_recipe bad.recipe app evil-absolute
expect 4 "an absolute path in a package" -- "$KILN" build bad.recipe --store "$S" --version 2026.01.20
err_has "package 'evil-absolute': unsafe path '/etc/evil'"
build_recipe bad.recipe app evil-symlink
expect 4 "a file written through a package's symlink" -- "$KILN" build bad.recipe --store "$S" --version 2026.01.20
err_has "'/usr/share/escape/passwd' would be written through the symlink '/usr/share/escape'"
build_recipe bad.recipe app conflict-a conflict-b
expect 2 "two packages with different files at one path" -- "$KILN" build bad.recipe --store "$S" --version 2026.01.20
err_has "package 'conflict-b': '/usr/share/conflict/file' conflicts with the one from 'conflict-a'"
check "none of them left a version" -- test ! -e "$S/app/2026.01.20"
build_recipe same.recipe app same-a same-b
expect 0 "identical files from two packages are fine" -- "$KILN" build same.recipe --store "$S" --version 2026.01.21
build_recipe nocmd.recipe libfoo
expect 2 "a Cmd the packages do not provide" -- "$KILN" build nocmd.recipe --store "$S" --version 2026.01.22
err_has "Cmd '/usr/bin/app' is not in the image"
build_recipe nouser.recipe app; sed -i 's/^User=app/User=nosuchuser/' nouser.recipe
expect 2 "a User the image does not have" -- "$KILN" build nouser.recipe --store "$S" --version 2026.01.22
err_has "User=nosuchuser is not a user of the image (base-passwd's, a package's sysusers.d or [Users])"
build_recipe nomod.recipe app; sed -i 's/^Modules=.*/Modules=no_such_mod/' nomod.recipe
expect 2 "a module the kernel does not have" -- "$KILN" build nomod.recipe --store "$S" --version 2026.01.22
err_has "module 'no_such_mod' is neither in kernel 6.1.0-9-kilntest nor built into it"

build_recipe disk.recipe app; sed -i '/^\[Output\]/a Formats=initramfs qcow2' disk.recipe
expect 2 "a disk image without systemd-boot-efi in the sources" -- "$KILN" build disk.recipe --store "$S" --version 2026.01.23
err_has "package 'systemd-boot-efi' is not in the recipe's sources: [Output] Formats=qcow2 needs its EFI stub"
[ ! -e "$S/app/2026.01.23" ] && ok "nothing was stored" || not_ok "a version was stored"

# --- a .deb that does not match the signed index
D=$(ls fx/repo/pool/kilntest/app_1.0_amd64.deb)
cp "$D" app.deb.orig
python3 -c 'import sys; p = sys.argv[1]; d = bytearray(open(p, "rb").read()); d[200] ^= 0xff; open(p, "wb").write(bytes(d))' "$D"	# flipped: never the same byte
expect 4 "a tampered .deb" -- "$KILN" build app.recipe --store "$T/store3"
err_has "app_1.0_amd64.deb': does not match the signed index"
check "it was not cached" -- sh -c "! ls '$T/store3/cache/sha256' 2>/dev/null | grep -qx \"\$(sha256sum < '$D' | cut -d' ' -f1)\""
cp app.deb.orig "$D"
test_done
