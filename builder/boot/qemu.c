/* qemu.c - every QEMU invocation of kiln: argv, console relay, exit status, timeout. */
#define _GNU_SOURCE
#include "qemu.h"
#include "disk.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MANIFEST_MAX (64 * 1024 * 1024)

int
kiln_image_cmdline(struct kiln_ctx *ctx, const char *dir, char **ret)
{
	_cleanup_free_ char *path = kiln_asprintf("%s/manifest.json", dir);
	_cleanup_free_ char *data = NULL;
	json_error_t err;
	json_t *root, *cmd;
	size_t len;

	if (kiln_read_file(ctx, path, MANIFEST_MAX, &data, &len) < 0)
		return -1;
	root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &err);
	if (!root)
		return kiln_error(ctx, KILN_EXIT_USAGE, "%s:%d: %s", path, err.line, err.text);
	cmd = json_object_get(json_object_get(root, "kernel"), "cmdline");
	if (!json_is_string(cmd)) {
		json_decref(root);
		return kiln_error(ctx, KILN_EXIT_USAGE, "%s: no kernel.cmdline", path);
	}
	*ret = kiln_strdup(json_string_value(cmd));
	json_decref(root);
	return 0;
}

static int
kvm_usable(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}


/* Looks for kiln-init's "... exit status N" in one console line. */
static void
scan_line(const char *line, int *status)
{
	const char *p = strstr(line, "kiln-init: ");

	if (p && (p = strstr(p, "exit status ")))
		*status = atoi(p + strlen("exit status "));
}

/*
 * Does a line QEMU printed say that KVM itself failed? Seen here: "KVM
 * internal error" and "emulation failure" under nested virtualization, and
 * "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69" followed by an
 * assertion in kvm_buf_set_msrs. QEMU's own lines start with its name.
 */
static int
kvm_error_line(const char *line)
{
	if (strstr(line, "KVM internal error") || strstr(line, "emulation failure"))
		return 1;
	return kiln_startswith(line, "qemu-system") &&
	       (strcasestr(line, "kvm") || strstr(line, "MSR") || strstr(line, "Assertion"));
}

/* The signal that asked kiln boot to stop (SIGINT, SIGTERM, SIGHUP), 0 if none. */
static volatile sig_atomic_t stop_signal;

static void
on_stop_signal(int sig)
{
	stop_signal = sig;
}

static void
stop(pid_t pid)
{
	kill(pid, SIGTERM);
	for (int i = 0; i < 50; i++) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return;
		usleep(100000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* The child: QEMU, killed when kiln boot dies however it dies (PR_SET_PDEATHSIG). */
static void
exec_qemu(char **argv, int out_fd, pid_t parent)
{
	int null = open("/dev/null", O_RDONLY);
	sigset_t none;

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)	/* the parent died before prctl() */
		_exit(127);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	dup2(null, 0);
	dup2(out_fd, 1);
	dup2(out_fd, 2);	/* QEMU's own errors (e.g. KVM's) are read too */
	execvp(argv[0], argv);
	fprintf(stderr, "kiln boot: cannot run '%s': %s\n", argv[0], strerror(errno));
	_exit(127);
}

/*
 * One QEMU run; returns 0, -1 with an error, or -2 when KVM failed
 * (@kvm_fallback, --accel auto): QEMU said so, ended, or (after @kvm_grace
 * seconds) had not reached kiln-init at all, which under KVM takes a few
 * seconds. Nested KVM here has taken minutes to report its emulation
 * failure. @ret_why says what QEMU last said, for the fallback's message.
 */
static int
run_qemu(struct kiln_ctx *ctx, const struct kiln_boot_opts *o, int kvm, int kvm_fallback, int kvm_grace,
	 int *ret_status, struct kiln_buf *ret_why)
{
	_cleanup_free_ char *kernel = kiln_asprintf("%s/vmlinuz", o->dir);
	_cleanup_free_ char *initrd = kiln_asprintf("%s/initrd.img", o->dir);
	_cleanup_free_ char *cmdline = NULL, *append = NULL, *mem = NULL;
	_cleanup_free_ char *disk = NULL, *vars = NULL, *pflash_code = NULL, *pflash_vars = NULL, *drive = NULL;
	const char *disk_format = NULL;
	struct kiln_buf netdev = { 0 }, line = { 0 }, last = { 0 };
	struct kiln_strv args = { 0 };
	const char *qemu = getenv("KILN_QEMU");
	int pfd[2], status = -1, wstatus = 0, timed_out = 0, kvm_failed = 0, saw_init = 0, rc;
	double deadline = o->timeout > 0 ? kiln_monotonic_s() + o->timeout : 0;
	double grace = kvm && kvm_fallback && kvm_grace > 0 ? kiln_monotonic_s() + kvm_grace : 0;
	struct stat st;
	pid_t pid, self = getpid();

	if (!o->disk && (stat(kernel, &st) < 0 || stat(initrd, &st) < 0))
		return kiln_error(ctx, KILN_EXIT_USAGE, "'%s' is not a built image (no vmlinuz or initrd.img)", o->dir);
	if (o->disk && !kiln_disk_find(o->dir, &disk, &disk_format))
		return kiln_error(ctx, KILN_EXIT_USAGE, "'%s' has no disk image ([Output] Formats= raw, qcow2 or vhd builds one)", o->dir);
	if (o->disk && o->append)
		return kiln_error(ctx, KILN_EXIT_USAGE, "--append cannot change a disk's command line: it is signed into its unified kernel image");
	if (!o->disk && kiln_image_cmdline(ctx, o->dir, &cmdline) < 0)
		return -1;
	kiln_buf_addf(&netdev, "user,id=net0");
	for (size_t i = 0; i < o->forwards.n; i++) {
		unsigned hp, gp;
		int n = 0;

		if (sscanf(o->forwards.v[i], "%u:%u%n", &hp, &gp, &n) != 2 || o->forwards.v[i][n] ||
		    !hp || hp > 65535 || !gp || gp > 65535) {
			kiln_buf_release(&netdev);
			return kiln_error(ctx, KILN_EXIT_USAGE, "bad --forward '%s': use HOSTPORT:GUESTPORT", o->forwards.v[i]);
		}
		kiln_buf_addf(&netdev, ",hostfwd=tcp:127.0.0.1:%u-:%u", hp, gp);
	}
	if (o->disk && kiln_ovmf_vars_copy(ctx, getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", &vars) < 0) {
		kiln_buf_release(&netdev);
		return -1;
	}
	mem = kiln_asprintf("%d", o->memory_mb > 0 ? o->memory_mb : 512);
	kiln_strv_push(&args, qemu && *qemu ? qemu : "qemu-system-x86_64");
	const char *fixed[] = { "-nodefaults", "-no-user-config", "-no-reboot", "-display", "none",
				"-chardev", "stdio,id=con,signal=off", "-serial", "chardev:con",
				"-device", "virtio-net-pci,netdev=net0", "-m", mem, "-smp", "1",
				"-accel", kvm ? "kvm" : "tcg", "-cpu", kvm ? "host" : "max", "-netdev", netdev.data };
	for (size_t i = 0; i < ARRAY_SIZE(fixed); i++)
		kiln_strv_push(&args, fixed[i]);
	if (o->disk) {
		/* the store's disk is never written: snapshot=on keeps the guest's writes in a temporary overlay */
		const char *uefi[] = { "-machine", "q35", "-drive", NULL, "-drive", NULL, "-drive", NULL };

		uefi[3] = pflash_code = kiln_asprintf("if=pflash,format=raw,unit=0,readonly=on,file=%s", KILN_OVMF_CODE);
		uefi[5] = pflash_vars = kiln_asprintf("if=pflash,format=raw,unit=1,file=%s", vars);
		uefi[7] = drive = kiln_asprintf("if=virtio,format=%s,snapshot=on,file=%s", disk_format, disk);
		for (size_t i = 0; i < ARRAY_SIZE(uefi); i++)
			kiln_strv_push(&args, uefi[i]);
	} else {
		append = kiln_asprintf("%s panic=-1%s%s", cmdline, o->append ? " " : "", o->append ? o->append : "");
		const char *direct[] = { "-kernel", kernel, "-initrd", initrd, "-append", append };

		for (size_t i = 0; i < ARRAY_SIZE(direct); i++)
			kiln_strv_push(&args, direct[i]);
	}
	kiln_buf_release(&netdev);

	if (pipe2(pfd, O_CLOEXEC) < 0) {
		kiln_strv_release(&args);
		if (vars)
			unlink(vars);
		return kiln_error(ctx, KILN_EXIT_FAILED, "pipe: %s", strerror(errno));
	}
	pid = fork();
	if (pid == 0)
		exec_qemu(args.v, pfd[1], self);
	close(pfd[1]);
	kiln_strv_release(&args);
	if (pid < 0) {
		close(pfd[0]);
		if (vars)
			unlink(vars);
		return kiln_error(ctx, KILN_EXIT_FAILED, "cannot fork: %s", strerror(errno));
	}
	while (!stop_signal) {
		struct pollfd p = { .fd = pfd[0], .events = POLLIN };
		int wait_ms = deadline ? (int)((deadline - kiln_monotonic_s()) * 1000) : -1;
		char buf[4096];
		ssize_t n;

		if (deadline && wait_ms <= 0) {
			timed_out = 1;
			break;
		}
		if (grace && !saw_init) {
			int g = (int)((grace - kiln_monotonic_s()) * 1000);

			if (g <= 0) {
				kvm_failed = 1;
				kiln_buf_addf(&last, "no kiln-init banner within %d s", kvm_grace);
				break;
			}
			if (wait_ms < 0 || g < wait_ms)
				wait_ms = g;
		}
		if (poll(&p, 1, wait_ms) < 0 && errno != EINTR)
			break;
		if (!(p.revents & (POLLIN | POLLHUP)))
			continue;
		n = read(pfd[0], buf, sizeof(buf));
		if (n <= 0)
			break;
		fwrite(buf, 1, n, o->console);
		fflush(o->console);
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] != '\n') {
				if (line.len < 4096)
					kiln_buf_add(&line, &buf[i], 1);
				continue;
			}
			if (line.len && line.data[line.len - 1] == '\r')
				line.data[--line.len] = '\0';
			if (line.len) {
				scan_line(line.data, &status);
				if (strstr(line.data, "kiln-init: "))
					saw_init = 1;
				if (kvm && !saw_init && !kvm_failed && kvm_error_line(line.data)) {
					kvm_failed = 1;	/* the first line says most; the rest follows from it */
					last.len = 0;
					kiln_buf_add(&last, line.data, line.len);
				} else if (!kvm_failed && kiln_startswith(line.data, "qemu-system")) {
					last.len = 0;
					kiln_buf_add(&last, line.data, line.len);
				}
			}
			line.len = 0;
		}
		if (kvm_failed)
			break;
	}
	close(pfd[0]);
	kiln_buf_release(&line);
	if (stop_signal || timed_out || kvm_failed) {
		stop(pid);
	} else {
		while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR && !stop_signal)
			;
		if (stop_signal)
			stop(pid);
	}
	if (stop_signal) {
		rc = kiln_error(ctx, KILN_EXIT_FAILED, "stopped by signal %d; the guest was shut down", (int)stop_signal);
	} else if (kvm && !saw_init && kvm_fallback && (kvm_failed || status < 0)) {
		/* under KVM, QEMU ended or failed before the guest reached kiln-init */
		if (!last.len)
			kiln_buf_addf(&last, "QEMU ended before kiln-init started");
		kiln_buf_add(ret_why, last.data, last.len);
		rc = -2;
	} else if (kvm_failed) {
		rc = kiln_error(ctx, KILN_EXIT_FAILED, "KVM failed to run the guest: %s (--accel tcg avoids it)", last.data);
	} else if (timed_out) {
		rc = kiln_error(ctx, KILN_EXIT_FAILED, "'%s' timed out after %d s", o->dir, o->timeout);
	} else if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 127 && status < 0) {
		rc = kiln_error(ctx, KILN_EXIT_FAILED, "cannot run QEMU: is qemu-system-x86 installed?");
	} else if (status < 0) {
		rc = kiln_error(ctx, KILN_EXIT_FAILED, "the guest ended without kiln-init reporting an exit status%s%s%s",
				last.len ? " (QEMU: " : "", last.len ? last.data : "", last.len ? ")" : "");
	} else {
		*ret_status = status;
		rc = 0;
	}
	kiln_buf_release(&last);
	if (vars)
		unlink(vars);
	return rc;
}

int
kiln_boot(struct kiln_ctx *ctx, const struct kiln_boot_opts *o, int *ret_status)
{
	const char *accel = o->accel && *o->accel ? o->accel : "auto";
	_cleanup_free_ char *marker = NULL;
	struct kiln_buf why = { 0 };
	struct sigaction sa = { .sa_handler = on_stop_signal }, old[3];
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	int kvm, rc, autom = strcmp(accel, "auto") == 0;

	if (!autom && strcmp(accel, "kvm") && strcmp(accel, "tcg"))
		return kiln_error(ctx, KILN_EXIT_USAGE, "bad accelerator '%s': use auto, kvm or tcg", accel);
	marker = o->store ? kiln_asprintf("%s/cache/kvm-failed", o->store) : NULL;
	kvm = strcmp(accel, "kvm") == 0 || (autom && kvm_usable() && !(marker && access(marker, F_OK) == 0));
	/* interrupted or terminated, kiln boot ends its QEMU first (orphaned, PR_SET_PDEATHSIG does) */
	stop_signal = 0;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		sigaction(sigs[i], &sa, &old[i]);
	rc = run_qemu(ctx, o, kvm, autom, 30, ret_status, &why);
	if (rc == -2) {
		/*
		 * /dev/kvm opens but cannot run the guest (nested virtualization):
		 * remember it in the store, so later boots go straight to TCG;
		 * removing the file tries KVM again.
		 */
		fprintf(stderr, "kiln boot: KVM failed before the guest started (%s); booting again under TCG%s%s%s\n",
			why.data, marker ? " (remembered in " : "", marker ? marker : "", marker ? ")" : "");
		if (marker) {
			struct kiln_ctx sub;
			_cleanup_free_ char *dir = kiln_asprintf("%s/cache", o->store);
			_cleanup_free_ char *text = kiln_asprintf("%s\n", why.data);

			kiln_ctx_init(&sub);
			if (kiln_mkdir_p(&sub, dir, 0755) == 0)
				kiln_write_atomic(&sub, marker, text, strlen(text), 0644);
		}
		rc = stop_signal ? kiln_error(ctx, KILN_EXIT_FAILED, "stopped by signal %d", (int)stop_signal)
				 : run_qemu(ctx, o, 0, 0, 0, ret_status, &why);
	}
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		sigaction(sigs[i], &old[i], NULL);
	kiln_buf_release(&why);
	return rc;
}
