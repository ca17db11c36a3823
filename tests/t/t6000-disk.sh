#!/bin/bash
# t6000-disk.sh - disk images on the generated repository: what [Output]
# Formats= raw qcow2 vhd make (a GPT disk, its ESP and unified kernel
# image, a fixed VHD), that they are bit-reproducible and signed with the
# rest; and kiln audit's command line on a version's initramfs (the
# libguestfs-backed reads are in tests/unit/test-audit-disk.c, one appliance).
. "$(dirname "$0")/../lib/test-lib.sh"
mkrepo
S=$T/store
[ -f /usr/lib/systemd/boot/efi/linuxx64.efi.stub ] || { echo "Bail out! systemd-boot-efi is not installed (make deps)"; exit 1; }
sed -i -e 's/^Suites=.*/Suites=kilntest kilntest-security kilntest-boot/' app.recipe
cat >> app.recipe <<'EOR'

[Users]
app=1000:1000:/var/lib/app

[Output]
Formats=initramfs raw qcow2 vhd
Compression=gzip
EOR
sed -i 's/^Cmd=.*/Cmd=\/usr\/bin\/app --serve\nUser=app/' app.recipe

expect 0 "a build with disk images" -- "$KILN" build app.recipe --store "$S" --version 2026.01.0
V=$S/app/2026.01.0
for f in disk.raw disk.qcow2 disk.vhd; do
	[ -s "$V/$f" ] && ok "$f is there" || not_ok "$f is missing"
done
jq() { python3 -c "import json,sys; d=json.load(open('$V/manifest.json')); print(eval(sys.argv[1]))" "$1"; }
[ "$(jq '" ".join(a["name"] for a in d["artifacts"])')" = "initrd.img vmlinuz disk.raw disk.qcow2 disk.vhd" ] &&
	ok "the manifest lists the disks as artifacts" || not_ok "artifacts: $(jq '[a["name"] for a in d["artifacts"]]')"
[ "$(jq 'd["disk"]["uefi_stub"]["package"] + " " + d["disk"]["uefi_stub"]["version"]')" = "systemd-boot-efi 252.39-1" ] &&
	ok "the manifest names the EFI stub's package" || not_ok "uefi_stub: $(jq 'd["disk"]')"
size=$(stat -c %s "$V/disk.raw")
[ $((size % 1048576)) -eq 0 ] && [ "$(jq 'd["disk"]["size"]')" = "$size" ] && ok "the raw disk is $size bytes, a multiple of 1 MiB, as recorded" ||
	not_ok "raw size $size, manifest $(jq 'd["disk"]["size"]')"

# the partition table: GPT, one EFI system partition from 1 MiB, the GUIDs the manifest records
sfdisk -J "$V/disk.raw" > pt.json 2> pt.err || not_ok "sfdisk cannot read the disk: $(cat pt.err)"
python3 - "$V/manifest.json" <<'PY' > pt.out 2>&1 && ok "GPT with the ESP and the recorded GUIDs" || { not_ok "partition table"; cat pt.out; }
import json, sys
m = json.load(open(sys.argv[1]))["disk"]
t = json.load(open("pt.json"))["partitiontable"]
assert t["label"] == "gpt", t
assert t["id"].upper() == m["disk_guid"], (t["id"], m["disk_guid"])
(p,) = t["partitions"]
assert p["start"] == 2048 and p["type"].upper() == "C12A7328-F81F-11D2-BA4B-00A0C93EC93B", p
assert p["uuid"].upper() == m["esp_guid"] and p["name"] == "ESP", p
PY
# the ESP (mtools reads it in place): FAT32, the volume id recorded, the UKI as the default boot entry
minfo -i "$V/disk.raw@@1M" :: > esp.info 2>&1
grep -q "serial number: $(jq 'd["disk"]["fat_serial"].replace("-", "")')" esp.info && grep -q "FAT32" esp.info &&
	ok "FAT32 ESP with the recorded volume id" || { not_ok "ESP: $(grep -i -E 'serial|fat' esp.info | head -3)"; }
MTOOLS_SKIP_CHECK=1 mcopy -n -i "$V/disk.raw@@1M" ::/EFI/BOOT/BOOTX64.EFI uki.efi 2> mcopy.err ||
	not_ok "no /EFI/BOOT/BOOTX64.EFI: $(cat mcopy.err)"
objdump -h uki.efi > sections 2>&1
for s in .osrel .cmdline .linux .initrd; do
	grep -q " $s " sections && ok "the UKI has $s" || not_ok "the UKI lacks $s"
done
objcopy -O binary --only-section=.linux uki.efi linux.bin && cmp -s linux.bin "$V/vmlinuz" &&
	ok "its .linux is the version's vmlinuz" || not_ok ".linux differs from vmlinuz"
objcopy -O binary --only-section=.cmdline uki.efi cmdline.bin
[ "$(cat cmdline.bin)" = "$(jq 'd["disk"]["cmdline"]')" ] && ok "its .cmdline is the recorded one ($(cat cmdline.bin))" ||
	not_ok ".cmdline '$(cat cmdline.bin)'"
objdump -p uki.efi | grep -q "^Time/Date.*2026$" && [ "$(objdump -p uki.efi | sed -n 's/^Time\/Date\t*//p')" = "$(LC_ALL=C TZ=UTC date -d @1767225600 '+%a %b %e %H:%M:%S %Y')" ] &&
	ok "the PE timestamp is SOURCE_DATE_EPOCH" || not_ok "PE timestamp: $(objdump -p uki.efi | grep Time/Date)"

# qcow2 and VHD: the same disk
qemu-img compare -q -f raw -F qcow2 "$V/disk.raw" "$V/disk.qcow2" && ok "disk.qcow2 holds the raw disk" || not_ok "qcow2 differs"
qemu-img compare -q -f raw -F vpc "$V/disk.raw" "$V/disk.vhd" && ok "disk.vhd holds the raw disk" || not_ok "vhd differs"
qemu-img info -f vpc --output=json "$V/disk.vhd" > vhd.json
python3 -c "import json; d=json.load(open('vhd.json')); assert d['virtual-size'] == $size, d" && [ $(stat -c %s "$V/disk.vhd") -eq $((size + 512)) ] &&
	ok "the VHD is fixed: the raw bytes and a footer, virtual size $size" || not_ok "vhd: $(cat vhd.json | head -5)"
expect 0 "manifest verify covers the disks" -- "$KILN" manifest verify app/2026.01.0 --store "$S" --allow-unsigned
grep -q "^ok disk.vhd" out && ok "disk.vhd's hash verified" || not_ok "no disk.vhd line"

# reproducible: the same recipe and repository give the same bytes, later
sha256sum "$V"/disk.* "$V/manifest.json" > first
sleep 1
expect 0 "the same version built again" -- "$KILN" build app.recipe --store "$S" --version 2026.01.0 --force
sha256sum "$V"/disk.* "$V/manifest.json" | diff first - > /dev/null && ok "disk.raw, disk.qcow2, disk.vhd and the manifest are bit-identical" ||
	not_ok "the rebuild differs: $(sha256sum "$V"/disk.* | diff first - | head -3)"
expect 0 "another version" -- "$KILN" build app.recipe --store "$S" --version 2026.01.1
[ "$(python3 -c "import json; print(json.load(open('$S/app/2026.01.1/manifest.json'))['disk']['disk_guid'])")" != "$(jq 'd["disk"]["disk_guid"]')" ] &&
	ok "another version gets other GUIDs (they are derived from the image)" || not_ok "two versions share a disk GUID"

# a swapped disk is caught by verify
cp "$V/disk.qcow2" saved.qcow2; printf x | dd of="$V/disk.qcow2" bs=1 seek=$(( $(stat -c %s "$V/disk.qcow2") / 2 )) conv=notrunc status=none
expect 4 "a modified disk.qcow2" -- "$KILN" manifest verify app/2026.01.0 --store "$S" --allow-unsigned
err_has "disk.qcow2 has SHA256"
cp saved.qcow2 "$V/disk.qcow2"

# Formats=initramfs alone makes no disk and needs no stub
sed 's/^Formats=.*/Formats=initramfs/' app.recipe > initrd.recipe
expect 0 "an initramfs-only build" -- "$KILN" build initrd.recipe --store "$S" --version 2026.01.2
ls "$S/app/2026.01.2" | grep -q disk && not_ok "it made a disk" || ok "no disk image"
python3 -c "import json; assert 'disk' not in json.load(open('$S/app/2026.01.2/manifest.json'))" && ok "no 'disk' in its manifest" || not_ok "'disk' in the manifest"

# --- kiln audit on a version's initramfs (no appliance needed)
expect 0 "audit of the initramfs-only version" -- "$KILN" audit app/2026.01.2 --store "$S"
grep -q "no findings" out && grep -q "integrity checked" out && ok "clean, integrity checked" || not_ok "$(cat out)"
expect 0 "--json" -- "$KILN" audit app/2026.01.2 --store "$S" --json
python3 -c "import json; d=json.load(open('$T/out')); assert d['kind'] == 'kiln-initramfs' and d['findings'] == [] and d['files'] > 10, d" &&
	ok "JSON: kind, files, no findings" || not_ok "$(head -c 300 out)"
printf '[Paths]\n/etc/passwd=0600 root root\n/etc/nothing=0644\n[WorldWritable]\nAllow=/tmp /var/tmp\n' > strict.policy
expect 1 "a policy the image does not meet" -- "$KILN" audit app/2026.01.2 --store "$S" --policy strict.policy --json
python3 - <<'PY' && ok "exactly the two findings: passwd's mode and the missing file" || not_ok "$(head -c 600 "$T/out")"
import json
d = json.load(open("out"))
got = sorted((f["rule"], f["path"], f["expected"], f["actual"]) for f in d["findings"])
assert got == [("missing", "/etc/nothing", "present", "absent"), ("mode", "/etc/passwd", "0600", "0644")], got
PY
printf '[Paths]\n/etc/passwd=0999\n' > bad.policy
expect 2 "a bad policy" -- "$KILN" audit app/2026.01.2 --store "$S" --policy bad.policy
err_has "bad.policy:2"
cp "$S/app/2026.01.2/initrd.img" saved.img; printf 'x' >> "$S/app/2026.01.2/initrd.img"
expect 4 "a version that does not match its manifest" -- "$KILN" audit app/2026.01.2 --store "$S"
err_has "initrd.img is"
cp saved.img "$S/app/2026.01.2/initrd.img"
expect 2 "neither a file nor a version" -- "$KILN" audit app/2099.01.0 --store "$S"
err_has "is neither an image file nor a version"
qemu-img create -q -f qcow2 -b "$V/disk.raw" -F raw backed.qcow2
expect 4 "a qcow2 with a backing file is refused before the appliance opens it" -- "$KILN" audit backed.qcow2 --store "$S"
err_has "a qcow2 image with a backing file is not audited"
# (one libguestfs appliance: the disk as a deployment boots it, an overlay of the store's disk.qcow2)
qemu-img create -q -f qcow2 -b "$V/disk.qcow2" -F qcow2 overlay.qcow2
expect 0 "audit of a deployment's boot overlay (libguestfs)" -- "$KILN" audit overlay.qcow2 --store "$S" --json
python3 -c "import json; d=json.load(open('$T/out')); assert (d['kind'], d['family'], d['version'], d['integrity'], d['findings']) == ('kiln-disk', 'app', '2026.01.0', 'checked', []), d" &&
	ok "a kiln disk of app/2026.01.0, checked against its files.tsv, clean" || not_ok "$(head -c 400 out)"
test_done
