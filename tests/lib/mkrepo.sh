#!/bin/bash
# mkrepo.sh DIR [update] - generate a small signed Debian repository for the tests
# ("update" adds libfoo 1.2 to kilntest-security, re-signed with a later Date:,
# 2026-01-15, or $REPO_DATE):
#   DIR/repo/        dists/{kilntest,kilntest-security}/InRelease + main/binary-amd64/Packages.xz, pool/
#   DIR/keyring.gpg  the throwaway signing key (binary);  DIR/keyring.asc  the same, armored
#   DIR/other.gpg    a key that signed nothing
#   DIR/gnupg/       the signing key's home (tests re-sign tampered indexes with it)
# Packages exercise: versioned Depends, alternatives (first satisfiable wins),
# a real package over a provider, a pure virtual package, Pre-Depends,
# Recommends (not installed), a -security update, a kernel metapackage.
set -eu
dir=$1
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
repo=$dir/repo
export GNUPGHOME=$dir/gnupg
mkdir -p -m 700 "$GNUPGHOME"

gpg_batch() { gpg --batch --quiet --no-tty --pinentry-mode loopback --passphrase '' "$@"; }
if [ "${2:-}" != update ]; then
	gpg_batch --quick-gen-key 'kiln test repository <repo@kiln.invalid>' ed25519 sign never 2>/dev/null
	gpg_batch --export > "$dir/keyring.gpg"
	gpg_batch --armor --export > "$dir/keyring.asc"
	GNUPGHOME=$dir/gnupg-other
	mkdir -p -m 700 "$GNUPGHOME"
	gpg_batch --quick-gen-key 'kiln other key <other@kiln.invalid>' ed25519 sign never 2>/dev/null
	gpg_batch --export > "$dir/other.gpg"
	GNUPGHOME=$dir/gnupg
fi

# deb SUITE NAME VERSION ARCH [Field: value]...
deb() {
	local suite=$1 name=$2 version=$3 arch=$4; shift 4
	local b=$dir/build/$name-$version
	mkdir -p "$b/DEBIAN" "$b/usr/share/kiln-test"
	{
		echo "Package: $name"
		echo "Version: $version"
		echo "Architecture: $arch"
		echo "Maintainer: kiln tests <tests@kiln.invalid>"
		for f in "$@"; do echo "$f"; done
		echo "Description: kiln test package $name"
	} > "$b/DEBIAN/control"
	echo "$name $version" > "$b/usr/share/kiln-test/$name"
	mkdir -p "$b/usr/share/doc/$name"
	printf '%s (%s) kilntest; urgency=medium\n\n  * Test.\n\n -- kiln <t@kiln.invalid>  Thu, 01 Jan 2026 00:00:00 +0000\n' \
		"$name" "$version" | gzip -9n > "$b/usr/share/doc/$name/changelog.Debian.gz"
	local hook="files_${name//[-.]/_}"
	if declare -F "$hook" >/dev/null; then "$hook" "$b"; fi
	mkdir -p "$repo/pool/$suite"
	local out="$repo/pool/$suite/${name}_${version//:/%3a}_$arch.deb"
	dpkg-deb --root-owner-group -Zxz --build "$b" "$out" >/dev/null
	local raw="raw_${name//[-.]/_}"
	if declare -F "$raw" >/dev/null; then rawdata "$out" "$raw"; fi
}

# rawdata DEB FUNCTION: replace the .deb's data.tar with what FUNCTION (python)
# writes, for entries dpkg-deb refuses to build (../, absolute paths, ...).
rawdata() {
	local d; d=$(mktemp -d)
	(cd "$d" && ar x "$1" && rm -f data.tar.* && python3 -c "$($2)" &&
		if [ "$(stat -c %s data.tar)" -gt 100000000 ]; then zstd -q -1 -T0 --rm data.tar; else xz -1 -T1 data.tar; fi &&
		rm -f "$1" && ar rc "$1" debian-binary control.tar.* data.tar.*)
	rm -rf "$d"
}

# A module: an ELF object with the .modinfo section modprobe reads.
ko() {	# PATH NAME DEPENDS
	printf 'license=GPL\0name=%s\0depends=%s\0' "$2" "$3" > "$dir/modinfo"
	echo 'int kiln_test_module;' | gcc -c -x c - -o "$dir/m.o"
	mkdir -p "$(dirname "$1")"
	objcopy --add-section .modinfo="$dir/modinfo" --set-section-flags .modinfo=alloc,readonly "$dir/m.o" "$1"
}
files_linux_image_6_1_0_9_kilntest() {
	local m=$1/lib/modules/6.1.0-9-kilntest
	mkdir -p "$1/boot"
	head -c 4096 /dev/urandom > "$1/boot/vmlinuz-6.1.0-9-kilntest"
	# what the kernel unpacks: gzip and xz (with the x86 filter), not zstd
	printf 'CONFIG_RD_GZIP=y\nCONFIG_RD_XZ=y\n# CONFIG_RD_ZSTD is not set\nCONFIG_XZ_DEC_X86=y\n' > "$1/boot/config-6.1.0-9-kilntest"
	ko "$m/kernel/drivers/net/virtio_net.ko" virtio_net net_failover
	ko "$m/kernel/drivers/net/net_failover.ko" net_failover failover
	ko "$m/kernel/net/core/failover.ko" failover ""
	ko "$m/kernel/drivers/block/virtio_blk.ko" virtio_blk ""
	printf 'kernel/drivers/virtio/virtio_pci.ko\n' > "$m/modules.builtin"
	printf 'kernel/drivers/net/virtio_net.ko\n' > "$m/modules.order"
	: > "$m/modules.builtin.modinfo"
}
files_app() {
	mkdir -p "$1/bin" "$1/lib/x86_64-linux-gnu" "$1/etc/app"
	printf '#!/bin/false\n' > "$1/bin/app"; chmod 755 "$1/bin/app"
	printf 'libapp\n' > "$1/lib/x86_64-linux-gnu/libapp.so.1"
	ln -s libapp.so.1 "$1/lib/x86_64-linux-gnu/libapp.so"
	ln "$1/bin/app" "$1/bin/app-hardlink"
	echo "setting=1" > "$1/etc/app/app.conf"
}
# Closure=files: real ELF files, built without libc (the repository has none):
# cl-app's binary needs libclfoo.so.1 (cl-libfoo: through its soname symlink)
# and libclpriv.so (cl-priv, found by RUNPATH $ORIGIN), its loader is cl-ld's;
# cl-libfoo also ships configuration, data and a plugin only Keep= keeps;
# cl-shell also has a file that only looks like ELF; cl-unused is needed by
# nothing (and brings libfoo-tools and libfoo, whose security updates fix
# CVEs); cl-broken needs a library nobody ships.
cl_cc() {	# OUT ARGS...: a tiny ELF file
	local out=$1; shift
	mkdir -p "$(dirname "$out")"
	gcc -nostdlib -fPIC -Os -s -o "$out" "$@"
}
files_cl_app() {
	printf 'int clfoo(void); int clpriv(void);\nvoid _start(void) { clfoo(); clpriv(); for (;;); }\n' > "$dir/cl-app.c"
	printf 'int clfoo(void) { return 1; }\n' > "$dir/clfoo.c"
	printf 'int clpriv(void) { return 2; }\n' > "$dir/clpriv.c"
	cl_cc "$dir/libclfoo.so.1" -shared -Wl,-soname,libclfoo.so.1 "$dir/clfoo.c"
	cl_cc "$dir/libclpriv.so" -shared -Wl,-soname,libclpriv.so "$dir/clpriv.c"
	cl_cc "$1/usr/bin/cl-app" "$dir/cl-app.c" -L"$dir" -l:libclfoo.so.1 -l:libclpriv.so \
		-Wl,--dynamic-linker=/lib64/ld-linux-x86-64.so.2 -Wl,--enable-new-dtags -Wl,-rpath,'$ORIGIN/../lib/cl-app'
	printf '#!/usr/bin/cl-sh\necho ready\n' > "$1/usr/bin/cl-check"; chmod 755 "$1/usr/bin/cl-check"
}
files_cl_libfoo() {
	mkdir -p "$1/usr/lib/x86_64-linux-gnu/clfoo" "$1/etc" "$1/usr/share/clfoo"
	cp "$dir/libclfoo.so.1" "$1/usr/lib/x86_64-linux-gnu/libclfoo.so.1.0.0"
	ln -s libclfoo.so.1.0.0 "$1/usr/lib/x86_64-linux-gnu/libclfoo.so.1"
	cl_cc "$1/usr/lib/x86_64-linux-gnu/clfoo/plugin.so" -shared "$dir/clfoo.c"
	echo "clfoo=1" > "$1/etc/clfoo.conf"
	echo "data" > "$1/usr/share/clfoo/data"
}
files_cl_priv() { mkdir -p "$1/usr/lib/cl-app"; cp "$dir/libclpriv.so" "$1/usr/lib/cl-app/libclpriv.so"; }
files_cl_ld() { mkdir -p "$1/usr/lib64"; cp "$dir/libclpriv.so" "$1/usr/lib64/ld-linux-x86-64.so.2"; }
files_cl_shell() {
	cl_cc "$1/usr/bin/cl-sh" "$dir/clfoo.c" -Wl,-e,clfoo
	printf '\177ELF this is no ELF file' > "$1/usr/bin/cl-garbled"; chmod 755 "$1/usr/bin/cl-garbled"
}
files_cl_unused() {
	cl_cc "$1/usr/bin/cl-unused" "$dir/clfoo.c" -Wl,-e,clfoo
	mkdir -p "$1/etc"; echo "unused=1" > "$1/etc/cl-unused.conf"
}
files_cl_broken() {
	printf 'int gone(void);\nvoid _start(void) { gone(); }\n' > "$dir/broken.c"
	printf 'int gone(void) { return 0; }\n' > "$dir/gone.c"
	cl_cc "$dir/libgone.so.3" -shared -Wl,-soname,libgone.so.3 "$dir/gone.c"
	cl_cc "$1/usr/bin/cl-broken" "$dir/broken.c" -L"$dir" -l:libgone.so.3 -Wl,--dynamic-linker=/lib64/ld-linux-x86-64.so.2
}

# libfoo's changelog names the fixes of each version (1.0 is the point release)
files_libfoo() {
	local v=${1##*-} c="$1/usr/share/doc/libfoo/changelog.Debian.gz"
	{
		[ "$v" = 1.2 ] && printf 'libfoo (1.2) kilntest-security; urgency=high\n\n  * Fix CVE-2026-3333 (DSA-6001-1).\n\n -- kiln <t@kiln.invalid>  Mon, 01 Jun 2026 00:00:00 +0000\n\n'
		[ "$v" != 1.0 ] && printf 'libfoo (1.1) kilntest-security; urgency=high\n\n  * Fix CVE-2026-1111 and CVE-2026-2222 (DSA-5999-1).\n  * Not a CVE: XCVE-2026-9999, CVE-26-1.\n\n -- kiln <t@kiln.invalid>  Fri, 01 May 2026 00:00:00 +0000\n\n'
		printf 'libfoo (1.0) kilntest; urgency=medium\n\n  * Fix CVE-2025-0001 (in the point release already).\n\n -- kiln <t@kiln.invalid>  Thu, 01 Jan 2026 00:00:00 +0000\n'
	} | gzip -9n > "$c"
}
# libfoo-tools shares libfoo's doc directory, as many binary packages do
files_libfoo_tools() { rm -rf "$1/usr/share/doc/libfoo-tools"; ln -s libfoo "$1/usr/share/doc/libfoo-tools"; }
files_conflict_a() { mkdir -p "$1/usr/share/conflict"; echo a > "$1/usr/share/conflict/file"; }
files_conflict_b() { mkdir -p "$1/usr/share/conflict"; echo b > "$1/usr/share/conflict/file"; }
files_same_a() { mkdir -p "$1/usr/share/same"; echo same > "$1/usr/share/same/file"; }
files_same_b() { mkdir -p "$1/usr/share/same"; echo same > "$1/usr/share/same/file"; }
# base-passwd: the base users and groups every image starts from (a subset of Debian's)
files_systemd_boot_efi() {
	mkdir -p "$1/usr/lib/systemd/boot/efi"
	cp /usr/lib/systemd/boot/efi/linuxx64.efi.stub "$1/usr/lib/systemd/boot/efi/"
}
files_base_passwd() {
	mkdir -p "$1/usr/share/base-passwd"
	printf '%s\n' 'root:*:0:0:root:/root:/bin/bash' 'daemon:*:1:1:daemon:/usr/sbin:/usr/sbin/nologin' \
		'www-data:*:33:33:www-data:/var/www:/usr/sbin/nologin' 'nobody:*:65534:65534:nobody:/nonexistent:/usr/sbin/nologin' \
		> "$1/usr/share/base-passwd/passwd.master"
	printf '%s\n' 'root:*:0:' 'daemon:*:1:' 'adm:*:4:' 'www-data:*:33:' 'users:*:100:' 'nogroup:*:65534:' \
		> "$1/usr/share/base-passwd/group.master"
}
# daemon: what a server package declares instead of maintainer scripts doing it
files_daemon() {
	mkdir -p "$1/usr/lib/sysusers.d" "$1/usr/lib/tmpfiles.d" "$1/usr/sbin" "$1/var/lib/daemond"
	printf '#!/bin/false\n' > "$1/usr/sbin/daemond"; chmod 755 "$1/usr/sbin/daemond"
	printf '%s\n' '# the daemon runs as its own user' 'u daemond - "The daemon" /var/lib/daemond' \
		'g daemond-log -' 'm daemond daemond-log' 'm daemond adm' 'r - 500-900' > "$1/usr/lib/sysusers.d/daemond.conf"
	printf '%s\n' 'd /run/daemond 0750 daemond daemond - -' 'd /var/lib/daemond 0700 daemond daemond -' \
		'd /var/log/daemond 2750 root daemond-log' 'f /etc/daemond.flag 0640 root daemond - on' \
		'L /etc/daemond.link - - - - /etc/daemond.flag' 'x /tmp/daemond-*' > "$1/usr/lib/tmpfiles.d/daemond.conf"
}
# declarations kiln refuses: a device node, and a directory for a user nobody made
files_badtmp() { mkdir -p "$1/usr/lib/tmpfiles.d"; printf 'c /dev/kiln 0600 - - - 1:3\n' > "$1/usr/lib/tmpfiles.d/badtmp.conf"; }
files_takeover() { mkdir -p "$1/usr/lib/tmpfiles.d"; printf 'f /etc/passwd 0644 - - - root::0:0::/:/bin/sh\n' > "$1/usr/lib/tmpfiles.d/takeover.conf"; }
files_ghost() { mkdir -p "$1/usr/lib/tmpfiles.d"; printf 'd /var/lib/ghost 0700 ghost ghost -\n' > "$1/usr/lib/tmpfiles.d/ghost.conf"; }
# decompression bombs, small enough for the tests (which set tight [Limits])
raw_bomb_cumulative() { cat <<'PY'
import io, tarfile
with tarfile.open("data.tar", "w", format=tarfile.GNU_FORMAT) as t:
    for i in range(5):
        n = 1000 * 1024; f = tarfile.TarInfo("./usr/share/bomb/part%d" % i); f.size = n; t.addfile(f, io.BytesIO(bytes(n)))
PY
}
raw_bomb_huge() { cat <<'PY'
import tarfile
# one entry that says 5 GiB, and then the stream ends: only the header is ever read
f = tarfile.TarInfo("./usr/share/bomb/huge"); f.size = 5 << 30
open("data.tar", "wb").write(f.tobuf(tarfile.GNU_FORMAT) + bytes(1 << 20))
PY
}
raw_bomb_entries() { cat <<'PY'
import io, tarfile
with tarfile.open("data.tar", "w", format=tarfile.GNU_FORMAT) as t:
    for i in range(300):
        f = tarfile.TarInfo("./usr/share/bomb/e%03d" % i); f.size = 0; t.addfile(f, io.BytesIO(b""))
PY
}
raw_bomb_links() { cat <<'PY'
import io, tarfile
with tarfile.open("data.tar", "w", format=tarfile.GNU_FORMAT) as t:
    n = 600 * 1024; f = tarfile.TarInfo("./usr/share/bomb/big"); f.size = n; t.addfile(f, io.BytesIO(bytes(n)))
    for i in range(10):  # another mode than the file's: each becomes a copy of its own
        l = tarfile.TarInfo("./usr/share/bomb/link%d" % i); l.type = tarfile.LNKTYPE; l.linkname = "./usr/share/bomb/big"; l.mode = 0o755; t.addfile(l)
PY
}
raw_bomb_padding() { cat <<'PY'
import io, tarfile
with tarfile.open("data.tar", "w", format=tarfile.GNU_FORMAT) as t:
    f = tarfile.TarInfo("./usr/share/bomb/small"); f.size = 1; t.addfile(f, io.BytesIO(b"x"))
open("data.tar", "ab").write(bytes(20 << 20))	# 20 MiB after the end of the archive
PY
}
raw_half_a() { raw_bomb_half; }
raw_half_b() { raw_bomb_half; }
raw_bomb_half() { cat <<'PY'
import io, tarfile
with tarfile.open("data.tar", "w", format=tarfile.GNU_FORMAT) as t:
    n = 600 * 1024; f = tarfile.TarInfo("./usr/share/half/%s" % __import__("os").path.basename(__import__("os").getcwd())); f.size = n; t.addfile(f, io.BytesIO(bytes(n)))
PY
}
# the real bombs, for bench/bombs only (BOMBS=big): 5 x 1000 MiB, and 1 GiB of padding after the archive
raw_bomb_big5() { cat <<'PY'
import tarfile
with open("data.tar", "wb") as out:
    z = bytes(1 << 20)
    for i in range(5):
        f = tarfile.TarInfo("./usr/share/bomb/part%d" % i); f.size = 1000 << 20
        out.write(f.tobuf(tarfile.GNU_FORMAT))
        for _ in range(1000): out.write(z)
    out.write(bytes(1024))
PY
}
raw_bomb_bigpad() { cat <<'PY'
import io, tarfile
with tarfile.open("data.tar", "w", format=tarfile.GNU_FORMAT) as t:
    f = tarfile.TarInfo("./usr/share/bomb/small"); f.size = 1; t.addfile(f, io.BytesIO(b"x"))
with open("data.tar", "ab") as out:
    z = bytes(1 << 20)
    for _ in range(2048): out.write(z)
PY
}
# files.tsv injection: a name with a newline and tabs that forge a line
raw_evil_newline() { cat <<'PY'
import io, tarfile
with tarfile.open("data.tar", "w", format=tarfile.GNU_FORMAT) as t:
    i = tarfile.TarInfo("./usr/share/x\n/etc/forged\t100644\t0\t0\t1\tab"); d = b"x"; i.size = len(d); t.addfile(i, io.BytesIO(d))
PY
}
raw_evil_dotdot() { cat <<'PY'
import io, tarfile
with tarfile.open("data.tar", "w", format=tarfile.GNU_FORMAT) as t:
    i = tarfile.TarInfo("./usr/../../etc/evil"); d = b"x"; i.size = len(d); t.addfile(i, io.BytesIO(d))
PY
}
raw_evil_symlink() { cat <<'PY'
import io, tarfile
with tarfile.open("data.tar", "w", format=tarfile.GNU_FORMAT) as t:
    i = tarfile.TarInfo("./usr/share/escape"); i.type = tarfile.SYMTYPE; i.linkname = "/etc"; t.addfile(i)
    i = tarfile.TarInfo("./usr/share/escape/passwd"); d = b"x"; i.size = len(d); t.addfile(i, io.BytesIO(d))
PY
}
raw_evil_absolute() { cat <<'PY'
import io, tarfile
with tarfile.open("data.tar", "w", format=tarfile.GNU_FORMAT) as t:
    i = tarfile.TarInfo("/etc/evil"); d = b"x"; i.size = len(d); t.addfile(i, io.BytesIO(d))
PY
}

# release SUITE [VALID_UNTIL [BY_HASH]]: Packages.xz, Release, InRelease for one suite.
release() {
	local suite=$1 valid=${2:-} byhash=${3:-no} d=$repo/dists/$1
	mkdir -p "$d/main/binary-amd64"
	(cd "$repo" && apt-ftparchive packages "pool/$suite") > "$d/main/binary-amd64/Packages"
	xz -9 -k -f "$d/main/binary-amd64/Packages"
	gzip -9 -n -k -f "$d/main/binary-amd64/Packages"
	if [ "$byhash" = yes ]; then
		mkdir -p "$d/main/binary-amd64/by-hash/SHA256"
		for f in "$d"/main/binary-amd64/Packages.*; do
			cp "$f" "$d/main/binary-amd64/by-hash/SHA256/$(sha256sum < "$f" | cut -d' ' -f1)"
		done
	fi
	{
		echo "Origin: kiln-test"
		echo "Label: kiln-test"
		echo "Suite: $suite"
		echo "Codename: $suite"
		echo "Date: $(LC_ALL=C date -u -d "@${REPO_DATE:-1767225600}" '+%a, %d %b %Y %H:%M:%S UTC')"
		[ -n "$valid" ] && echo "Valid-Until: $valid"
		echo "Acquire-By-Hash: $byhash"
		echo "Architectures: amd64"
		echo "Components: main"
		echo "SHA256:"
		(cd "$d" && for f in main/binary-amd64/Packages main/binary-amd64/Packages.xz main/binary-amd64/Packages.gz; do
			printf ' %s %s %s\n' "$(sha256sum < "$f" | cut -d' ' -f1)" "$(stat -c %s "$f")" "$f"
		done)
	} > "$d/Release"
	# Like Debian's archive: the plain index is listed but not served.
	rm "$d/main/binary-amd64/Packages"
	sign "$d"
}

# sign DIR: DIR/Release → DIR/InRelease with the repository key.
sign() {
	gpg_batch --yes --digest-algo SHA512 --clearsign -o "$1/InRelease" "$1/Release"
}

S=kilntest-security
if [ "${2:-}" = update ]; then
	# a month later: a new security update, re-signed index
	deb $S libfoo 1.2 amd64
	deb $S libfoo-tools 1.2 amd64 "Depends: libfoo (= 1.2)" "Source: libfoo"
	REPO_DATE=${REPO_DATE:-1768435200} release kilntest-security "Tue, 01 Jun 2027 00:00:00 UTC" yes
	GNUPGHOME=$dir/gnupg gpgconf --kill gpg-agent 2>/dev/null || true
	exit 0
fi

S=kilntest
deb $S app 1.0 amd64 "Depends: libfoo (>= 1.0), alt-a | alt-b, nosuch | alt-c, libbar (>= 2.0) | libbar-compat, virt-real, tools, mail-transport-agent, merged-tool | is-merged, libsys" \
	"Pre-Depends: preinst-lib" "Recommends: extra"
deb $S libfoo 1.0 amd64
deb $S alt-a 1.0 all "Depends: alt-a-helper"
deb $S alt-a-helper 1.0 all
deb $S alt-b 1.0 all
deb $S alt-c 1.0 all
deb $S libbar 1.0 amd64
deb $S libbar-compat 1.0 amd64
deb $S virt-real 2.0 all "Depends: tools"
deb $S tools 1.0 amd64 "Provides: virt-real (= 1.0)"
deb $S tinymta 1.0 amd64 "Provides: mail-transport-agent"
deb $S merged-tool 37 all "Provides: is-merged" "Depends: merged-helper"
deb $S merged-helper 1.0 all
deb $S is-merged 37 all
deb $S libsys 252 amd64
deb $S libelog 246 amd64 "Provides: libsys (= 246)" "Conflicts: libsys" "Replaces: libsys"
deb $S preinst-lib 1.0 amd64
deb $S extra 1.0 all
deb $S conflict-a 1.0 all
deb $S conflict-b 1.0 all
deb $S same-a 1.0 all
deb $S same-b 1.0 all
deb $S evil-dotdot 1.0 all
deb $S evil-symlink 1.0 all
deb $S evil-absolute 1.0 all
deb $S svc-like 1.0 all "Depends: virt-real (>= 1.0), tools"
deb $S base-passwd 3.6.1 amd64
deb $S daemon 1.0 amd64
deb $S badtmp 1.0 all
deb $S ghost 1.0 all
deb $S takeover 1.0 all
for b in bomb-cumulative bomb-huge bomb-entries bomb-links bomb-padding half-a half-b evil-newline; do deb $S "$b" 1.0 all; done
if [ "${BOMBS:-}" = big ]; then deb $S bomb-big5 1.0 all; deb $S bomb-bigpad 1.0 all; fi
deb $S cl-app 1.0 amd64 "Depends: cl-libfoo, cl-priv, cl-ld, cl-shell, cl-unused"
deb $S cl-libfoo 1.0 amd64
deb $S cl-priv 1.0 amd64
deb $S cl-ld 1.0 amd64
deb $S cl-shell 1.0 amd64
deb $S cl-unused 1.0 amd64 "Depends: libfoo-tools"
deb $S cl-broken 1.0 amd64 "Depends: cl-ld"
deb $S needs-missing 1.0 all "Depends: does-not-exist (>= 3)"
deb $S conflicted 1.0 all "Depends: libfoo (<< 1.0)"
deb $S linux-image-6.1.0-9-kilntest 6.1.99-1 amd64 "Depends: kmod, initramfs-tools"
deb $S linux-image-kilntest 6.1.99-1 amd64 "Depends: linux-image-6.1.0-9-kilntest (= 6.1.99-1)"
deb $S kmod 30-1 amd64
deb $S initramfs-tools 0.142 all "Depends: kmod"
S=kilntest-security
deb $S libfoo 1.1 amd64
deb $S libfoo-tools 1.1 amd64 "Depends: libfoo (= 1.1)" "Source: libfoo"

release kilntest
release kilntest-security "Tue, 01 Jun 2027 00:00:00 UTC" yes
# disk images' EFI stub, in a suite of its own (recipes that build disks list it): the host's
# real systemd-boot-efi stub (make deps installs it), so the unified kernel image is a real PE file
if [ -f /usr/lib/systemd/boot/efi/linuxx64.efi.stub ]; then
	deb kilntest-boot systemd-boot-efi 252.39-1 amd64
	release kilntest-boot
fi

# Leave no gpg-agent behind: the directories are removed by the caller.
GNUPGHOME=$dir/gnupg-other gpgconf --kill gpg-agent 2>/dev/null || true
GNUPGHOME=$dir/gnupg gpgconf --kill gpg-agent 2>/dev/null || true
