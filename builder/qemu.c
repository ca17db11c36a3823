/* qemu.c - every QEMU invocation of kiln: argv, console relay, exit status, timeout. */
#define _GNU_SOURCE
#include "qemu.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
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

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Looks for kiln-init's "... exit status N" in one console line. */
static void
scan_line(const char *line, int *status)
{
	const char *p = strstr(line, "kiln-init: ");

	if (p && (p = strstr(p, "exit status ")))
		*status = atoi(p + strlen("exit status "));
}

static void
stop(pid_t pid)
{
	kill(pid, SIGTERM);
	for (int i = 0; i < 20; i++) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return;
		usleep(100000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/*
 * One QEMU run; returns 0, -1 with an error, or -2 when KVM itself failed:
 * QEMU said so, or (@kvm_grace seconds, auto mode) the guest did not reach
 * kiln-init at all, which under KVM takes a few seconds. Nested KVM here
 * has taken minutes to report its emulation failure.
 */
static int
run_qemu(struct kiln_ctx *ctx, const struct kiln_boot_opts *o, int kvm, int kvm_grace, int *ret_status)
{
	_cleanup_free_ char *kernel = kiln_asprintf("%s/vmlinuz", o->dir);
	_cleanup_free_ char *initrd = kiln_asprintf("%s/initrd.img", o->dir);
	_cleanup_free_ char *cmdline = NULL, *append = NULL, *mem = NULL;
	struct kiln_buf netdev = { 0 }, line = { 0 };
	struct kiln_strv args = { 0 };
	const char *qemu = getenv("KILN_QEMU");
	int pfd[2], status = -1, wstatus = 0, timed_out = 0, kvm_failed = 0, saw_init = 0;
	double deadline = o->timeout > 0 ? now_s() + o->timeout : 0;
	double grace = kvm && kvm_grace > 0 ? now_s() + kvm_grace : 0;
	struct stat st;
	pid_t pid;

	if (stat(kernel, &st) < 0 || stat(initrd, &st) < 0)
		return kiln_error(ctx, KILN_EXIT_USAGE, "'%s' is not a built image (no vmlinuz or initrd.img)", o->dir);
	if (kiln_image_cmdline(ctx, o->dir, &cmdline) < 0)
		return -1;
	append = kiln_asprintf("%s panic=-1%s%s", cmdline, o->append ? " " : "", o->append ? o->append : "");
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
	mem = kiln_asprintf("%d", o->memory_mb > 0 ? o->memory_mb : 512);
	kiln_strv_push(&args, qemu && *qemu ? qemu : "qemu-system-x86_64");
	const char *fixed[] = { "-nodefaults", "-no-user-config", "-no-reboot", "-display", "none",
				"-chardev", "stdio,id=con,signal=off", "-serial", "chardev:con",
				"-device", "virtio-net-pci,netdev=net0", "-m", mem, "-smp", "1",
				"-accel", kvm ? "kvm" : "tcg", "-cpu", kvm ? "host" : "max",
				"-kernel", kernel, "-initrd", initrd, "-append", append, "-netdev", netdev.data };
	for (size_t i = 0; i < ARRAY_SIZE(fixed); i++)
		kiln_strv_push(&args, fixed[i]);
	kiln_buf_release(&netdev);

	if (pipe2(pfd, O_CLOEXEC) < 0) {
		kiln_strv_release(&args);
		return kiln_error(ctx, KILN_EXIT_FAILED, "pipe: %s", strerror(errno));
	}
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		dup2(null, 0);
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);	/* QEMU's own errors (e.g. KVM's) are read too */
		execvp(args.v[0], args.v);
		fprintf(stderr, "kiln boot: cannot run '%s': %s\n", args.v[0], strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	kiln_strv_release(&args);
	if (pid < 0) {
		close(pfd[0]);
		return kiln_error(ctx, KILN_EXIT_FAILED, "cannot fork: %s", strerror(errno));
	}
	for (;;) {
		struct pollfd p = { .fd = pfd[0], .events = POLLIN };
		int wait_ms = deadline ? (int)((deadline - now_s()) * 1000) : -1;
		char buf[4096];
		ssize_t n;

		if (deadline && wait_ms <= 0) {
			timed_out = 1;
			break;
		}
		if (grace && !saw_init) {
			int g = (int)((grace - now_s()) * 1000);

			if (g <= 0) {
				kvm_failed = 1;
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
		if (n <= 0 || kvm_failed)
			break;
		fwrite(buf, 1, n, o->console);
		fflush(o->console);
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n') {
				scan_line(line.data ? line.data : "", &status);
				if (line.data && strstr(line.data, "kiln-init: "))
					saw_init = 1;
				if (kvm && line.data && strstr(line.data, "KVM internal error"))
					kvm_failed = 1;
				line.len = 0;
			} else if (line.len < 4096) {
				kiln_buf_add(&line, &buf[i], 1);
			}
		}
	}
	close(pfd[0]);
	kiln_buf_release(&line);
	if (kvm_failed) {
		stop(pid);
		return -2;
	}
	if (timed_out) {
		stop(pid);
		return kiln_error(ctx, KILN_EXIT_FAILED, "'%s' timed out after %d s", o->dir, o->timeout);
	}
	waitpid(pid, &wstatus, 0);
	if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 127 && status < 0)
		return kiln_error(ctx, KILN_EXIT_FAILED, "cannot run QEMU: is qemu-system-x86 installed?");
	if (status < 0)
		return kiln_error(ctx, KILN_EXIT_FAILED, "the guest ended without kiln-init reporting an exit status");
	*ret_status = status;
	return 0;
}

int
kiln_boot(struct kiln_ctx *ctx, const struct kiln_boot_opts *o, int *ret_status)
{
	const char *accel = o->accel && *o->accel ? o->accel : "auto";
	_cleanup_free_ char *marker = NULL;
	int kvm, rc;

	if (strcmp(accel, "auto") && strcmp(accel, "kvm") && strcmp(accel, "tcg"))
		return kiln_error(ctx, KILN_EXIT_USAGE, "bad accelerator '%s': use auto, kvm or tcg", accel);
	marker = o->store ? kiln_asprintf("%s/cache/kvm-failed", o->store) : NULL;
	kvm = strcmp(accel, "kvm") == 0 ||
	      (strcmp(accel, "auto") == 0 && kvm_usable() && !(marker && access(marker, F_OK) == 0));
	rc = run_qemu(ctx, o, kvm, strcmp(accel, "auto") == 0 ? 30 : 0, ret_status);
	if (rc == -2 && strcmp(accel, "auto") == 0) {
		/*
		 * /dev/kvm opens but cannot run the guest (seen under nested
		 * virtualization): remember it in the store, so later boots go
		 * straight to TCG; removing the file tries KVM again.
		 */
		fprintf(stderr, "kiln boot: KVM failed to run the guest (or to reach kiln-init in 30 s); booting again under TCG%s%s%s\n",
			marker ? " (remembered in " : "", marker ? marker : "", marker ? ")" : "");
		if (marker) {
			struct kiln_ctx sub;
			_cleanup_free_ char *dir = kiln_asprintf("%s/cache", o->store);

			kiln_ctx_init(&sub);
			if (kiln_mkdir_p(&sub, dir, 0755) == 0)
				kiln_write_atomic(&sub, marker, "KVM internal error\n", 19, 0644);
		}
		rc = run_qemu(ctx, o, 0, 0, ret_status);
	}
	if (rc == -2)
		return kiln_error(ctx, KILN_EXIT_FAILED, "KVM failed to run the guest (--accel tcg avoids it)");
	return rc;
}
