#!/bin/bash
# t3500-initrd.sh - the initramfs as segments: xz (the default) with the x86
# filter when the kernel's config has it, one stream per owner, reused from
# STORE/cache/initrd/ by the next build, a changed cache entry made again,
# a compressor the kernel cannot unpack refused, and every segment read back.
. "$(dirname "$0")/../lib/test-lib.sh"
mkrepo
S=$T/store
V=$S/app/2026.01.0

expect 0 "a build with the default compression" -- "$KILN" build app.recipe --store "$S" --version 2026.01.0
cp "$T/err" first.err
check "the summary names xz and its segments, none from an empty cache" -- \
	grep -qE '^kiln build: app/2026.01.0: .*initrd.img [0-9]+ bytes \(xz, [0-9]+ segments, 0 from the cache\)' first.err
python3 "$TOP/tests/lib/initrd.py" streams "$V/initrd.img" > streams
check "initrd.img is xz streams, one per owner: kiln's nodes, the modules, each package" -- \
	sh -c "[ \$(wc -l < streams) -ge 3 ] && [ \$(sort -u streams) = xz ]"
check "each stream has the x86 branch filter (the kernel's config has CONFIG_XZ_DEC_X86)" -- \
	sh -c "xz -lvv '$V/initrd.img' | grep -c 'x86' | grep -qx \$(wc -l < streams)"
check "the streams are CRC32-checked, which every kernel's xz decoder knows" -- \
	sh -c "xz -lvv '$V/initrd.img' | grep -E '^ +Check:' | grep -qx ' *Check: *CRC32'"
check "xz reads it whole (concatenated streams)" -- sh -c "xz -dc '$V/initrd.img' > /dev/null"
initrd_tv "$V/initrd.img" > list
check "every segment read as the kernel does gives files.tsv's entries" -- test "$(wc -l < list)" -eq "$(wc -l < "$V/files.tsv")"
check "a package's file comes from its own segment" -- test "$(initrd_cat "$V/initrd.img" etc/app/app.conf)" = setting=1
expect 0 "kiln's reader agrees (verify --deep)" -- "$KILN" manifest verify app/2026.01.0 --store "$S" --allow-unsigned --deep
n=$(wc -l < streams)

expect 0 "the next build" -- "$KILN" build app.recipe --store "$S" --version 2026.01.1
check "takes every package's segment from the cache, not kiln's own (its version changed)" -- \
	grep -qE "initrd.img [0-9]+ bytes \(xz, $n segments, $((n - 1)) from the cache\)" "$T/err"
expect 0 "and verifies" -- "$KILN" manifest verify app/2026.01.1 --store "$S" --allow-unsigned --deep

# the same recipe in a fresh store: the same bytes (reproducible, through the cache or not)
expect 0 "a build in an empty store" -- env SOURCE_DATE_EPOCH=1767225600 "$KILN" build app.recipe --store "$T/s2" --version 2026.01.2
expect 0 "the same build again" -- env SOURCE_DATE_EPOCH=1767225600 "$KILN" build app.recipe --store "$T/s2" --version 2026.01.2 --force
cp "$T/s2/app/2026.01.2/initrd.img" again.img
rm -rf "$T/s2/cache/initrd"
expect 0 "and once more without the cache" -- env SOURCE_DATE_EPOCH=1767225600 "$KILN" build app.recipe --store "$T/s2" --version 2026.01.2 --force
check "the initramfs is bit for bit the same" -- cmp -s again.img "$T/s2/app/2026.01.2/initrd.img"

# cached segments changed behind kiln's back (every entry: which ones the next build uses depends on their names)
for f in $(ls "$S/cache/initrd" | grep -v '\.sha256$'); do
	printf 'x' | dd of="$S/cache/initrd/$f" bs=1 seek=20 conv=notrunc 2> /dev/null
done
expect 0 "a build after the cache entries changed" -- "$KILN" build app.recipe --store "$S" --version 2026.01.3
cp "$T/err" changed.err
check "says so for each one it would have used, and uses none" -- sh -c "
	[ \$(grep -c \"warning: the cached segment '.*' changed since kiln made it\" changed.err) -eq $((n - 1)) ] &&
	grep -qE 'initrd.img [0-9]+ bytes \(xz, $n segments, 0 from the cache\)' changed.err"
expect 0 "the image is sound (verify --deep)" -- "$KILN" manifest verify app/2026.01.3 --store "$S" --allow-unsigned --deep
check "the entries it named are whole again" -- sh -c "
	k=0
	for f in \$(sed -n \"s/.*the cached segment '\\([^']*\\)' changed.*/\\1/p\" changed.err); do
		sha256sum \"\$f\" | cut -c1-64 | cmp -s - \"\$f.sha256\" || exit 1
		k=\$((k + 1))
	done
	[ \$k -eq $((n - 1)) ]"

# what the kernel cannot unpack
sed 's/^Install=.*/&\n[Output]\nCompression=zstd/' app.recipe > zstd.recipe
expect 2 "Compression=zstd with a kernel built without CONFIG_RD_ZSTD" -- "$KILN" build zstd.recipe --store "$S" --version 2026.01.4
err_has "kernel 6.1.0-9-kilntest cannot unpack it (CONFIG_RD_ZSTD is not set)"
check "and leaves no version behind" -- test ! -e "$S/app/2026.01.4"
sed 's/^Install=.*/&\n[Output]\nCompression=gzip/' app.recipe > gzip.recipe
expect 0 "Compression=gzip" -- "$KILN" build gzip.recipe --store "$S" --version 2026.01.5
check "is gzip members" -- sh -c "python3 '$TOP/tests/lib/initrd.py' streams '$S/app/2026.01.5/initrd.img' | sort -u | grep -qx gzip"
expect 0 "and verifies" -- "$KILN" manifest verify app/2026.01.5 --store "$S" --allow-unsigned --deep
test_done
