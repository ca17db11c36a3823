#!/usr/bin/python3
# initrd.py - an initramfs read the way the kernel reads it, independently of
# kiln's own reader: every archive of every segment (gzip, xz or none; no zstd,
# which Python cannot read) one after the other. bsdtar stops at the first trailer.
#   initrd.py tv IMAGE         one line per entry, as `bsdtar -tvf` prints it
#   initrd.py cat IMAGE PATH   the content of PATH (the last entry of that name)
#   initrd.py streams IMAGE    the compression of each segment, one per line
import lzma, stat, sys, zlib

def segments(data):
    """(kind, decompressed bytes) for each segment, walking as unpack_to_rootfs() does."""
    pos = 0
    while pos < len(data):
        if data[pos] == 0:
            pos += 1
            continue
        if data[pos:pos + 6] == b'070701':
            end = cpio_end(data, pos)
            yield 'none', data[pos:end]
            pos = end
        elif data[pos:pos + 2] == b'\x1f\x8b':
            d = zlib.decompressobj(16 + zlib.MAX_WBITS)
            out = d.decompress(data[pos:])
            yield 'gzip', out
            pos = len(data) - len(d.unused_data)
        elif data[pos:pos + 6] == b'\xfd7zXZ\x00':
            d = lzma.LZMADecompressor(lzma.FORMAT_XZ)
            out = d.decompress(data[pos:])
            yield 'xz', out
            pos = len(data) - len(d.unused_data)
        else:
            raise SystemExit('initrd.py: unknown data at byte %d' % pos)

def entries(buf, pos=0):
    """(name, mode, uid, gid, nlink, ino, data, archive) of each entry of the archives in buf."""
    archive = 0
    while pos < len(buf):
        if buf[pos] == 0:
            pos += 1
            continue
        if buf[pos:pos + 6] != b'070701':
            raise SystemExit('initrd.py: junk inside a segment')
        f = [int(buf[pos + 6 + 8 * i:pos + 14 + 8 * i], 16) for i in range(13)]
        ino, mode, uid, gid, nlink, mtime, size, namesize = f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[11]
        name = buf[pos + 110:pos + 110 + namesize - 1].decode()
        pos = (pos + 110 + namesize + 3) & ~3
        data = buf[pos:pos + size]
        pos = (pos + size + 3) & ~3
        if name == 'TRAILER!!!':
            archive += 1
            continue
        yield name, mode, uid, gid, nlink, ino, data, archive

def cpio_end(data, pos):
    while True:
        f = [int(data[pos + 6 + 8 * i:pos + 14 + 8 * i], 16) for i in range(13)]
        namesize, size = f[11], f[6]
        name = data[pos + 110:pos + 110 + namesize - 1]
        pos = (pos + 110 + namesize + 3) & ~3
        pos = (pos + f[6] + 3) & ~3
        if name == b'TRAILER!!!':
            return pos

def main():
    cmd, image = sys.argv[1], sys.argv[2]
    data = open(image, 'rb').read()
    if cmd == 'streams':
        for kind, _ in segments(data):
            print(kind)
        return
    found = None
    for kind, buf in segments(data):
        heads = {}	# (archive, inode) -> (first name, content): the kernel links later names to it
        for name, mode, uid, gid, nlink, ino, content, archive in entries(buf):
            key = (archive, ino)
            link = None
            if stat.S_ISREG(mode) and nlink > 1:
                if key in heads:
                    link, content = heads[key]
                else:
                    heads[key] = (name, content)
            if cmd == 'tv':
                line = '%s %d %d %d %d Jan 1 2000 %s' % (stat.filemode(mode), nlink, uid, gid, len(content), name)
                if stat.S_ISLNK(mode):
                    line += ' -> ' + content.decode()
                elif link:
                    line += ' link to ' + link
                print(line)
            elif cmd == 'cat' and name == sys.argv[3]:
                found = content
    if cmd == 'cat':
        if found is None:
            raise SystemExit('initrd.py: %s: no such entry' % sys.argv[3])
        sys.stdout.buffer.write(found)

main()
