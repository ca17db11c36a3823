#!/bin/bash
# mkrepo.sh DIR - generate a small signed Debian repository for the tests:
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
gpg_batch --quick-gen-key 'kiln test repository <repo@kiln.invalid>' ed25519 sign never 2>/dev/null
gpg_batch --export > "$dir/keyring.gpg"
gpg_batch --armor --export > "$dir/keyring.asc"
GNUPGHOME=$dir/gnupg-other
mkdir -p -m 700 "$GNUPGHOME"
gpg_batch --quick-gen-key 'kiln other key <other@kiln.invalid>' ed25519 sign never 2>/dev/null
gpg_batch --export > "$dir/other.gpg"
GNUPGHOME=$dir/gnupg

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
	mkdir -p "$repo/pool/$suite"
	dpkg-deb --root-owner-group -Zxz --build "$b" "$repo/pool/$suite/${name}_${version//:/%3a}_$arch.deb" >/dev/null
}

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
deb $S svc-like 1.0 all "Depends: virt-real (>= 1.0), tools"
deb $S needs-missing 1.0 all "Depends: does-not-exist (>= 3)"
deb $S conflicted 1.0 all "Depends: libfoo (<< 1.0)"
deb $S linux-image-6.1.0-9-kilntest 6.1.99-1 amd64 "Depends: kmod, initramfs-tools"
deb $S linux-image-kilntest 6.1.99-1 amd64 "Depends: linux-image-6.1.0-9-kilntest (= 6.1.99-1)"
deb $S kmod 30-1 amd64
deb $S initramfs-tools 0.142 all "Depends: kmod"
S=kilntest-security
deb $S libfoo 1.1 amd64

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
		echo "Date: $(LC_ALL=C date -u -d @1767225600 '+%a, %d %b %Y %H:%M:%S UTC')"
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

release kilntest
release kilntest-security "Tue, 01 Jun 2027 00:00:00 UTC" yes

# Leave no gpg-agent behind: the directories are removed by the caller.
GNUPGHOME=$dir/gnupg-other gpgconf --kill gpg-agent 2>/dev/null || true
GNUPGHOME=$dir/gnupg gpgconf --kill gpg-agent 2>/dev/null || true
