#!/bin/bash
# t3200-setup.sh - what maintainer scripts would have done, done by kiln
# build: users and groups (base-passwd, sysusers.d, [Users]), directories
# (tmpfiles.d, [Directories], State=), steps before the command, and the
# command line split as systemd splits ExecStart=.
. "$(dirname "$0")/../lib/test-lib.sh"
mkrepo
S=$T/store
echo '<p>hi</p>' > page.html

# setup_recipe FILE INSTALL...: the daemon image, with everything this test looks at
setup_recipe() {
	local f=$1; shift
	cat > "$f" <<EOR
[Image]
Family=daemon
Cmd=/usr/sbin/daemond -g "daemon off;" --name 'a b' --esc=\x41\tb \$\$HOME
User=daemond
Environment="GREETING=hello world" MODE=test
State=/var/lib/daemond
ExecStartPre=/usr/sbin/daemond --check "x y"
FirstBoot=/usr/sbin/daemond --init
[Source]
URI=file://$T/fx/repo
Suites=kilntest kilntest-security
Keyring=$T/fx/keyring.gpg
[Kernel]
Package=linux-image-kilntest
[Packages]
Install=$*
[Files]
/srv/www/index.html=page.html:0644
[Directories]
/srv/www=0755:www-data
/var/cache/daemond=0750:daemond:adm
/run/daemond/sockets=0770:daemond:daemond-log
[Users]
web=1200:1200:/var/lib/web
EOR
}
setup_recipe d.recipe daemon
expect 0 "build the daemon image" -- "$KILN" build d.recipe --store "$S" --version 2026.01.0
cp "$T/err" build.err
V=$S/daemon/2026.01.0
tar_cat() { initrd_cat "$V/initrd.img" "$1"; }
tsv() { awk -F'\t' -v p="$1" '$1 == p { print $2, $3, $4 }' "$V/files.tsv"; }

# --- users and groups
tar_cat etc/passwd > passwd; tar_cat etc/group > group
check "passwd starts with base-passwd's entries, in its order" -- \
	test "$(head -4 passwd | cut -d: -f1 | tr '\n' ' ')" = "root daemon www-data nobody "
check "nobody is there (nginx's getpwnam(\"nobody\"))" -- grep -qx 'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin' passwd
check "sysusers.d: 'u daemond -' takes the highest free system id, with its GECOS and home" -- \
	grep -qx 'daemond:x:999:999:The daemon:/var/lib/daemond:/usr/sbin/nologin' passwd
check "sysusers.d: the user's group" -- grep -qx 'daemond:x:999:' group
check "sysusers.d: 'g daemond-log -' takes the next free id, 'm' adds the member" -- grep -qx 'daemond-log:x:998:daemond' group
check "sysusers.d: 'm daemond adm' joins a base group" -- grep -qx 'adm:x:4:daemond' group
check "[Users] comes last, with its own group" -- sh -c "tail -1 passwd | grep -qx 'web:x:1200:1200:web:/var/lib/web:/usr/sbin/nologin' && grep -qx 'web:x:1200:' group"

# --- kiln-init's configuration: the user, its groups, the argv, the steps
tar_cat etc/kiln/init > init.conf
check "the command runs as daemond with its supplementary groups" -- \
	sh -c "grep -qx 'uid=999' init.conf && grep -qx 'gid=999' init.conf && grep -qx 'groups=4,998' init.conf && grep -qx 'home=/var/lib/daemond' init.conf"
check "Cmd is split as systemd's ExecStart= (quotes, escapes, \$\$)" -- \
	test "$(grep '^arg=' init.conf | tr '\n' '|')" = "arg=/usr/sbin/daemond|arg=-g|arg=daemon off;|arg=--name|arg=a b|arg=--esc=A	b|arg=\$HOME|"
check "Environment= keeps a quoted value whole" -- sh -c "grep -qx 'env=GREETING=hello world' init.conf && grep -qx 'env=MODE=test' init.conf"
check "ExecStartPre= and FirstBoot= in order, each with its argv" -- \
	test "$(grep -E '^(pre|parg)=' init.conf | tr '\n' '|')" = "pre=always|parg=/usr/sbin/daemond|parg=--check|parg=x y|pre=first|parg=/usr/sbin/daemond|parg=--init|"
check "the state directory is named for kiln-init" -- grep -qx 'state=/var/lib/daemond' init.conf
check "directories under /run are made by kiln-init at boot" -- \
	test "$(grep '^dir=' init.conf | tr '\n' '|')" = "dir=0750 999 999 /run/daemond|dir=0770 999 998 /run/daemond/sockets|"

# --- directories and files, in the image and in files.tsv
check "tmpfiles 'd' on a directory the package ships: its mode and owner win" -- test "$(tsv /var/lib/daemond)" = "040700 999 999"
check "tmpfiles 'd' with a group" -- test "$(tsv /var/log/daemond)" = "042750 0 998"
check "tmpfiles 'f' makes the file with its argument" -- test "$(tar_cat etc/daemond.flag)" = on
check "tmpfiles 'f' mode and owner" -- test "$(tsv /etc/daemond.flag)" = "100640 0 999"
check "tmpfiles 'L' makes the symlink" -- test "$(tsv /etc/daemond.link)" = "120777 0 0"
check "[Directories] with a base-passwd user" -- test "$(tsv /srv/www)" = "040755 33 33"
check "[Directories] with a sysusers user and a base group" -- test "$(tsv /var/cache/daemond)" = "040750 999 4"
check "nothing under /run is in the image" -- sh -c "! grep -q '^/run/' '$V/files.tsv'"
check "/var/run leads to /run" -- test "$(tsv /var/run)" = "120777 0 0"
check "[Users] homes belong to their users" -- test "$(tsv /var/lib/web)" = "040750 1200 1200"
expect 0 "the image unpacks as files.tsv says (verify --deep)" -- \
	"$KILN" manifest verify daemon/2026.01.0 --store "$S" --allow-unsigned --deep
check "a directory a package ships and tmpfiles changes is one entry of the archive, with the new mode and owner" -- \
	test "$(initrd_tv "$V/initrd.img" | awk '$NF == "var/lib/daemond" { print $1, $3, $4 }')" = "drwx------ 999 999"

# --- what kiln does not act on is listed, in the build's output and the manifest
check "the build lists the declarations it did not act on" -- \
	sh -c "grep -qxF \"kiln build: not acted on: package 'daemon': /usr/lib/tmpfiles.d/daemond.conf:6: tmpfiles 'x /tmp/daemond-*' (cleanup at run time)\" build.err &&
	       grep -qxF \"kiln build: not acted on: package 'daemon': /usr/lib/sysusers.d/daemond.conf:6: sysusers 'r 500-900'\" build.err"
python3 - "$V/manifest.json" > image.txt <<'PY'
import json, sys
i = json.load(open(sys.argv[1]))["image"]
print(i["argv"]); print(i["user"]); print(i["environment"]); print(i["state"])
print([(s["when"], s["argv"]) for s in i["exec_start_pre"]]); print(len(i["not_acted_on"]))
PY
check "manifest: the image's argv, user, environment, state and steps" -- test "$(cat image.txt)" = "$(cat <<'EOF'
['/usr/sbin/daemond', '-g', 'daemon off;', '--name', 'a b', '--esc=A\tb', '$HOME']
daemond
['GREETING=hello world', 'MODE=test']
{'path': '/var/lib/daemond', 'storage': 'memory'}
[('every-boot', ['/usr/sbin/daemond', '--check', 'x y']), ('first-boot', ['/usr/sbin/daemond', '--init'])]
2
EOF
)"

expect 0 "manifest show says what runs" -- "$KILN" manifest show daemon/2026.01.0 --store "$S"
cat > show.want <<'EOF'
command    /usr/sbin/daemond -g "daemon off;" --name "a b" "--esc=A\tb" "$$HOME"
user       daemond
pre-start  /usr/sbin/daemond --check "x y"
first-boot /usr/sbin/daemond --init
state      /var/lib/daemond (memory)
not acted  2 package declarations (manifest.json: image.not_acted_on)
EOF
sed -n '/^command/,/^not acted/p' "$T/out" > show.got
check "manifest show: the command, quoted where needed, its user, steps and state" -- cmp -s show.want show.got

# --- bad input: exit 2, naming the recipe line or the package and file
expect 2 "a tmpfiles.d type kiln does not support" -- "$KILN" build <(setup_recipe /dev/stdout daemon badtmp) --store "$S"
err_has "package 'badtmp': /usr/lib/tmpfiles.d/badtmp.conf:1: tmpfiles type 'c' is not supported"
expect 2 "a package's tmpfiles.d names a user nobody made" -- "$KILN" build <(setup_recipe /dev/stdout daemon ghost) --store "$S"
err_has "package 'ghost': /usr/lib/tmpfiles.d/ghost.conf:1: unknown user 'ghost' (add it to [Users])"
expect 2 "a package's tmpfiles.d cannot write a file kiln generates" -- "$KILN" build <(setup_recipe /dev/stdout daemon takeover) --store "$S"
err_has "package 'takeover': /usr/lib/tmpfiles.d/takeover.conf:1: '/etc/passwd' is a file kiln writes itself"
setup_recipe bad.recipe daemon; sed -i 's|^/srv/www=.*|/etc/daemond.link/sub=0755|' bad.recipe
expect 2 "[Directories] through a symlink" -- "$KILN" build bad.recipe --store "$S"
err_has "bad.recipe:$(grep -n '^/etc/daemond.link/sub=' bad.recipe | cut -d: -f1): package '': '/etc/daemond.link/sub' would be written through the symlink '/etc/daemond.link'"
setup_recipe bad.recipe daemon; sed -i 's|^/var/cache/daemond=.*|/var/cache/daemond=0750:nosuch|' bad.recipe
expect 2 "[Directories] with an unknown user" -- "$KILN" build bad.recipe --store "$S"
err_has "bad.recipe:$(grep -n '^/var/cache/daemond' bad.recipe | cut -d: -f1): unknown user 'nosuch'"
setup_recipe bad.recipe daemon; sed -i 's|^/var/cache/daemond=.*|/var/cache/daemond=0750:daemond:nogroup2|' bad.recipe
expect 2 "[Directories] with an unknown group" -- "$KILN" build bad.recipe --store "$S"
err_has "unknown group 'nogroup2'"
setup_recipe bad.recipe daemon; sed -i 's|^web=1200:1200|www-data=1300:1300|' bad.recipe
expect 2 "[Users] cannot redefine a base user" -- "$KILN" build bad.recipe --store "$S"
err_has "user 'www-data' is already in the image as 33:33 (from package 'base-passwd')"
setup_recipe bad.recipe daemon; sed -i 's|^web=1200:1200|web=999:999|' bad.recipe
expect 2 "[Users] cannot take a uid a package's sysusers.d took" -- "$KILN" build bad.recipe --store "$S"
err_has "uid 999 of user 'web' is already taken by 'daemond'"
setup_recipe bad.recipe daemon; sed -i 's|^ExecStartPre=.*|ExecStartPre=/usr/sbin/missing|' bad.recipe
expect 2 "a step whose program is not in the image" -- "$KILN" build bad.recipe --store "$S"
err_has "bad.recipe:$(grep -n '^ExecStartPre' bad.recipe | cut -d: -f1): '/usr/sbin/missing' is not in the image"
setup_recipe bad.recipe daemon; sed -i 's|^/srv/www=.*|/usr/sbin/daemond=0755|' bad.recipe
expect 2 "[Directories] on a path that is a file" -- "$KILN" build bad.recipe --store "$S"
err_has "bad.recipe:$(grep -n '^/usr/sbin/daemond=' bad.recipe | cut -d: -f1): '/usr/sbin/daemond' is not a directory in the image (from 'daemon')"
check "nothing half-built is left in the store after the failures" -- sh -c "! ls -a '$S' | grep -q '^\.build-'"
test_done
