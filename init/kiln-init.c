/*
 * kiln-init.c - PID 1 of a kiln image: mount the API filesystems, load the
 * listed modules, set up lo and one interface, then run and supervise the one
 * command of the image. The only code of ours inside the guest: keep it small.
 * Configuration: /etc/kiln/init, "key=value" lines written by kiln build.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "smbios.h"

#define CONF "/etc/kiln/init"
#define MAXV 64
#define MAXSTEPS 16

/* A step before the command (ExecStartPre= every boot, FirstBoot= when the state directory is empty). */
struct step {
	int first;
	char *argv[MAXV + 1];
	int argc;
};

static struct {
	char *family, *version, *hostname, *on_exit, *home, *address, *gateway, *state, *groups;
	unsigned uid, gid;
	char *argv[MAXV + 1], *env[MAXV + 1], *modules[MAXV + 1], *dirs[MAXV + 1];
	int argc, envc, nmod, ndirs;
	struct step steps[MAXSTEPS];
	int nsteps;
} conf;

static void
say(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(2, "kiln-init: ", 11) < 0 || write(2, buf, n) < 0)
		return;
}

/* KEY=VALUE into the application's environment, replacing the image's value of KEY. */
static void
set_env(char *kv)
{
	size_t k = strchr(kv, '=') - kv;

	for (int i = 0; i < conf.envc; i++)
		if (!strncmp(conf.env[i], kv, k + 1)) {
			conf.env[i] = kv;
			return;
		}
	if (conf.envc < MAXV)
		conf.env[conf.envc++] = kv;
}

static unsigned char dmi[256 * 1024];
static char dmi_env[64 * 1024], dmi_keys[512];
static size_t dmi_env_len;

static char dmi_ip[64];	/* "kiln.ip:ADDR/PREFIX,GW": a disk-booted deployment's address (its command line is signed) */

static void
oem_string(const char *s, size_t len, void *data)
{
	(void)data;
	if (len > 8 && len - 8 < sizeof(dmi_ip) && !strncmp(s, "kiln.ip:", 8)) {
		memcpy(dmi_ip, s + 8, len - 8);
		dmi_ip[len - 8] = '\0';
		return;
	}
	if (len <= 9 || strncmp(s, "kiln.env:", 9) || s[9] == '=' || !memchr(s + 9, '=', len - 9) ||
	    dmi_env_len + len - 9 + 1 > sizeof(dmi_env))
		return;
	memcpy(dmi_env + dmi_env_len, s + 9, len - 9);
	dmi_env[dmi_env_len + len - 9] = '\0';
	set_env(dmi_env + dmi_env_len);
	/* the keys, not the values, go to the console: a value may be a secret */
	snprintf(dmi_keys + strlen(dmi_keys), sizeof(dmi_keys) - strlen(dmi_keys), " %.*s",
		 (int)(strchr(dmi_env + dmi_env_len, '=') - (dmi_env + dmi_env_len)), dmi_env + dmi_env_len);
	dmi_env_len += len - 9 + 1;
}

/*
 * The deployment's configuration: SMBIOS OEM strings "kiln.env:KEY=VALUE"
 * that kiln puts in the libvirt domain, over the image's Environment=.
 * No DMI table (kiln boot, another hypervisor): nothing to add.
 */
static void
deployment_env(void)
{
	int fd = open("/sys/firmware/dmi/tables/DMI", O_RDONLY | O_CLOEXEC);
	size_t n = 0;
	ssize_t r;

	if (fd < 0)
		return;
	while (n < sizeof(dmi) && (r = read(fd, dmi + n, sizeof(dmi) - n)) > 0)
		n += (size_t)r;
	close(fd);
	kiln_smbios_oem_strings(dmi, n, oem_string, NULL);
	if (dmi_env_len)
		say("configuration from the deployment:%s", dmi_keys);
}

static void
mount_api(void)
{
	static const struct { const char *src, *dst, *type, *opts; unsigned long flags; } m[] = {
		{ "proc", "/proc", "proc", NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC },
		{ "sysfs", "/sys", "sysfs", NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC },
		{ "devtmpfs", "/dev", "devtmpfs", "mode=0755", MS_NOSUID },
		{ "tmpfs", "/run", "tmpfs", "mode=0755", MS_NOSUID | MS_NODEV },
		{ "tmpfs", "/tmp", "tmpfs", "mode=1777", MS_NOSUID | MS_NODEV },
		{ "tmpfs", "/dev/shm", "tmpfs", "mode=1777", MS_NOSUID | MS_NODEV },
	};

	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		mkdir(m[i].dst, 0755);
		if (mount(m[i].src, m[i].dst, m[i].type, m[i].flags, m[i].opts) < 0 && errno != EBUSY)
			say("cannot mount %s: %s", m[i].dst, strerror(errno));
	}
	mkdir("/run/lock", 01777);	/* /var/lock leads there, as on Debian */
	chmod("/run/lock", 01777);
}

static void
console(void)
{
	int fd = open("/dev/console", O_RDWR | O_NOCTTY);

	if (fd < 0)
		return;
	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	if (fd > 2)
		close(fd);
}

static void
add(char **v, int *n, char *s)
{
	if (*n < MAXV)
		v[(*n)++] = s;
}

static int
read_conf(void)
{
	static char buf[65536];
	int fd = open(CONF, O_RDONLY | O_CLOEXEC);
	ssize_t n;
	char *line, *save = NULL;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *v = strchr(line, '=');

		if (!v)
			continue;
		*v++ = '\0';
		if (!strcmp(line, "family")) conf.family = v;
		else if (!strcmp(line, "version")) conf.version = v;
		else if (!strcmp(line, "hostname")) conf.hostname = v;
		else if (!strcmp(line, "on_exit")) conf.on_exit = v;
		else if (!strcmp(line, "home")) conf.home = v;
		else if (!strcmp(line, "uid")) conf.uid = (unsigned)strtoul(v, NULL, 10);
		else if (!strcmp(line, "gid")) conf.gid = (unsigned)strtoul(v, NULL, 10);
		else if (!strcmp(line, "address")) conf.address = v;
		else if (!strcmp(line, "gateway")) conf.gateway = v;
		else if (!strcmp(line, "arg")) add(conf.argv, &conf.argc, v);
		else if (!strcmp(line, "env")) add(conf.env, &conf.envc, v);
		else if (!strcmp(line, "module")) add(conf.modules, &conf.nmod, v);
		else if (!strcmp(line, "groups")) conf.groups = v;
		else if (!strcmp(line, "state")) conf.state = v;
		else if (!strcmp(line, "dir")) add(conf.dirs, &conf.ndirs, v);
		else if (!strcmp(line, "pre") && conf.nsteps < MAXSTEPS) conf.steps[conf.nsteps++].first = !strcmp(v, "first");
		else if (!strcmp(line, "parg") && conf.nsteps)
			add(conf.steps[conf.nsteps - 1].argv, &conf.steps[conf.nsteps - 1].argc, v);
	}
	return conf.argc ? 0 : -1;
}

static void
load_modules(void)
{
	for (int i = 0; i < conf.nmod; i++) {
		int fd = open(conf.modules[i], O_RDONLY | O_CLOEXEC);

		if (fd < 0 || (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST))
			say("cannot load %s: %s", conf.modules[i], strerror(errno));
		if (fd >= 0)
			close(fd);
	}
}

/*
 * kiln.ip=ADDRESS/PREFIX[,GATEWAY] on the kernel command line, else the
 * SMBIOS OEM string kiln.ip:ADDRESS/PREFIX[,GATEWAY], overrides the recipe.
 */
static void
cmdline_ip(void)
{
	static char buf[4096];
	int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
	ssize_t n;
	char *p, *e, *comma;

	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	for (p = buf; (p = strstr(p, "kiln.ip=")); p++)
		if (p == buf || p[-1] == ' ')
			break;
	if (p)
		p += 8;
	else if (dmi_ip[0])	/* the command line wins; the deployment's OEM string otherwise */
		p = dmi_ip;
	else
		return;
	e = p + strcspn(p, " \n");
	*e = '\0';
	comma = strchr(p, ',');
	if (comma) {
		*comma = '\0';
		conf.gateway = comma + 1;
	}
	conf.address = p;
}

static int
ifreq_addr(int s, const char *ifname, unsigned long req, in_addr_t a)
{
	struct ifreq ifr = { 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;

	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = a;
	return ioctl(s, req, &ifr);
}

static int
if_up(int s, const char *ifname)
{
	struct ifreq ifr = { 0 };

	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return -1;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	return ioctl(s, SIOCSIFFLAGS, &ifr);
}

static void
network(void)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct if_nameindex *ifs, *i;
	char addr[64], *slash;
	const char *dev = NULL;
	struct in_addr a, g;
	unsigned long prefix;

	if (s < 0)
		return;
	if (if_up(s, "lo") < 0)
		say("cannot bring up lo: %s", strerror(errno));
	if (!conf.address)
		goto out;
	snprintf(addr, sizeof(addr), "%s", conf.address);
	slash = strchr(addr, '/');
	prefix = slash ? strtoul(slash + 1, NULL, 10) : 24;
	if (slash)
		*slash = '\0';
	if (inet_pton(AF_INET, addr, &a) != 1 || prefix > 32) {
		say("bad address %s", conf.address);
		goto out;
	}
	ifs = if_nameindex();
	for (i = ifs; i && i->if_name; i++)
		if (strcmp(i->if_name, "lo") != 0) {
			dev = i->if_name;
			break;
		}
	if (!dev) {
		say("no network interface for %s", conf.address);
	} else if (ifreq_addr(s, dev, SIOCSIFADDR, a.s_addr) < 0 ||
		   ifreq_addr(s, dev, SIOCSIFNETMASK, prefix ? htonl(~0U << (32 - prefix)) : 0) < 0 ||
		   if_up(s, dev) < 0) {
		say("cannot configure %s: %s", dev, strerror(errno));
	} else if (conf.gateway && inet_pton(AF_INET, conf.gateway, &g) == 1) {
		struct rtentry rt = { 0 };

		((struct sockaddr_in *)&rt.rt_dst)->sin_family = AF_INET;
		((struct sockaddr_in *)&rt.rt_genmask)->sin_family = AF_INET;
		((struct sockaddr_in *)&rt.rt_gateway)->sin_family = AF_INET;
		((struct sockaddr_in *)&rt.rt_gateway)->sin_addr = g;
		rt.rt_flags = RTF_UP | RTF_GATEWAY;
		if (ioctl(s, SIOCADDRT, &rt) < 0)
			say("cannot add the default route: %s", strerror(errno));
	}
	if (ifs)
		if_freenameindex(ifs);
out:
	close(s);
}

/* mkdir -p @path's parents (root, 0755). */
static void
mkparents(char *path)
{
	for (char *s = strchr(path + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		mkdir(path, 0755);
		*s = '/';
	}
}

/* "MODE UID GID PATH": the directories under /run and /tmp, made at every boot as systemd-tmpfiles does. */
static void
runtime_dirs(void)
{
	for (int i = 0; i < conf.ndirs; i++) {
		unsigned mode, uid, gid;
		int n = 0;
		char *path;

		if (sscanf(conf.dirs[i], "%o %u %u %n", &mode, &uid, &gid, &n) != 3 || conf.dirs[i][n] != '/')
			continue;
		path = conf.dirs[i] + n;
		mkparents(path);
		if ((mkdir(path, mode) < 0 && errno != EEXIST) || chown(path, uid, gid) < 0 || chmod(path, mode) < 0)
			say("cannot make %s: %s", path, strerror(errno));
	}
}

/*
 * The data volume's device: the virtio disk whose serial is "kiln-state"
 * (kiln's domains name it so), else the first virtio disk without
 * partitions, so that a disk image the guest booted from (a GPT disk) is
 * never taken for it. Returns 0 with @dev ("/dev/vdX"), or -1: none.
 */
static int
state_device(char dev[16])
{
	int fallback = -1;

	for (int c = 'a'; c <= 'z'; c++) {
		char path[64], serial[64] = "";
		struct stat st;
		int fd;
		ssize_t n;

		snprintf(path, sizeof(path), "/dev/vd%c", c);
		if (stat(path, &st) < 0 || !S_ISBLK(st.st_mode))
			continue;
		snprintf(path, sizeof(path), "/sys/block/vd%c/serial", c);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
			n = read(fd, serial, sizeof(serial) - 1);
			serial[n > 0 ? n : 0] = '\0';
			close(fd);
		}
		if (strcmp(serial, "kiln-state") == 0 || strcmp(serial, "kiln-state\n") == 0) {
			snprintf(dev, 16, "/dev/vd%c", c);
			return 0;
		}
		snprintf(path, sizeof(path), "/sys/block/vd%c/vd%c1", c, c);
		if (fallback < 0 && access(path, F_OK) < 0)
			fallback = c;
	}
	if (fallback < 0)
		return -1;
	snprintf(dev, 16, "/dev/vd%c", fallback);
	return 0;
}

/*
 * A deployment's data volume (ext4, made by kiln through libguestfs; see
 * state_device()), mounted over State= and given to User=. Without one, the
 * state stays in memory.
 */
static void
state_volume(void)
{
	char dev[16];

	if (!conf.state || state_device(dev) < 0)
		return;
	mkparents(conf.state);
	if (mkdir(conf.state, 0750) < 0 && errno != EEXIST) {
		say("cannot make %s: %s", conf.state, strerror(errno));
		return;
	}
	if (mount(dev, conf.state, "ext4", MS_NOSUID | MS_NODEV | MS_NOATIME, NULL) < 0) {
		say("cannot mount the data volume %s on %s: %s", dev, conf.state, strerror(errno));
		return;
	}
	if (chown(conf.state, conf.uid, conf.gid) < 0 || chmod(conf.state, 0750) < 0)
		say("cannot give %s to %u:%u: %s", conf.state, conf.uid, conf.gid, strerror(errno));
	say("data volume %s mounted on %s", dev, conf.state);
}

/* Is the state directory empty (or missing)? Then this is the image's first boot with it. */
static int
state_empty(void)
{
	DIR *d = conf.state ? opendir(conf.state) : NULL;
	struct dirent *de;
	int empty = 1;

	if (!d)
		return 1;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && strcmp(de->d_name, "lost+found"))
			empty = 0;
	closedir(d);
	return empty;
}

static void
drop_privileges(void)
{
	gid_t groups[MAXV];
	int ng = 0;

	for (char *g = conf.groups; g && *g && ng < MAXV; ) {
		groups[ng++] = (gid_t)strtoul(g, &g, 10);
		if (*g == ',')
			g++;
	}
	if (setgroups(ng, groups) < 0 || setgid(conf.gid) < 0 || setuid(conf.uid) < 0) {
		say("cannot become %u:%u: %s", conf.uid, conf.gid, strerror(errno));
		_exit(126);
	}
}

static pid_t
start(char **argv)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	/* PID 1 blocks every signal; the command must get them (SIGTERM above all) */
	{
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
	}
	setsid();
	drop_privileges();
	if (chdir(conf.home ? conf.home : "/") < 0 && chdir("/") < 0)
		_exit(126);
	execve(argv[0], argv, conf.env);
	say("cannot run %s: %s", argv[0], strerror(errno));
	_exit(127);
}

/* Runs @argv to its end, reaping whatever else ends meanwhile; returns its wait status. */
static int
run(char **argv)
{
	pid_t child = start(argv), pid;
	int status = 127 << 8;

	if (child < 0) {
		say("cannot fork: %s", strerror(errno));
		return status;
	}
	while ((pid = wait(&status)) != child)
		if (pid < 0 && errno == ECHILD)
			break;
	return status;
}

static int
report(const char *what, int status)
{
	if (WIFSIGNALED(status)) {
		say("%s killed by signal %d; exit status %d", what, WTERMSIG(status), 128 + WTERMSIG(status));
		return 128 + WTERMSIG(status);
	}
	say("%s exited; exit status %d", what, WEXITSTATUS(status));
	return WEXITSTATUS(status);
}

/* The steps before the command; returns 0, or (reported) the wait status of the one that failed. */
static int
run_steps(void)
{
	int first = state_empty();

	for (int i = 0; i < conf.nsteps; i++) {
		struct step *st = &conf.steps[i];
		int status;

		if (!st->argc || (st->first && !first))
			continue;
		say("%s step: %s", st->first ? "first-boot" : "pre-start", st->argv[0]);
		status = run(st->argv);
		if (status != 0) {
			report(st->argv[0], status);
			return status;
		}
	}
	return 0;
}

int
main(void)
{
	sigset_t all;

	mount_api();
	console();
	if (read_conf() < 0) {
		say("cannot read " CONF);
		reboot(RB_POWER_OFF);
		return 1;
	}
	deployment_env();
	load_modules();
	state_volume();
	if (conf.hostname && sethostname(conf.hostname, strlen(conf.hostname)) < 0)
		say("cannot set the hostname: %s", strerror(errno));
	cmdline_ip();
	network();
	/* PID 1 reaps everything; signals sent to it are ignored */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	for (;;) {
		int status;

		runtime_dirs();
		if ((status = run_steps()) == 0) {
			say("%s %s starting %s", conf.family ? conf.family : "?", conf.version ? conf.version : "?", conf.argv[0]);
			report(conf.argv[0], run(conf.argv));
		}
		if (conf.on_exit && strcmp(conf.on_exit, "restart") == 0) {
			sleep(1);
			continue;
		}
		kill(-1, SIGTERM);
		sleep(1);
		kill(-1, SIGKILL);
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		sync();
		reboot(conf.on_exit && strcmp(conf.on_exit, "reboot") == 0 ? RB_AUTOBOOT : RB_POWER_OFF);
		return 1;
	}
}
