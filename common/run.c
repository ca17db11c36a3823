/* run.c - running a helper program (objcopy, mtools, qemu-img): argv, environment, its error text. */
#define _GNU_SOURCE
#include "kiln.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define RUN_STDERR_MAX 4096

/* The last non-empty line of @text (in place), or "" */
static const char *
last_line(char *text)
{
	char *end = text + strlen(text), *start;

	while (end > text && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		*--end = '\0';
	start = strrchr(text, '\n');
	return start ? start + 1 : text;
}

int
kiln_run(struct kiln_ctx *ctx, const char *const *argv, const char *const *env, const char *package)
{
	char err[RUN_STDERR_MAX + 1];
	int fd = memfd_create("kiln-run-stderr", MFD_CLOEXEC), wstatus = 0;
	ssize_t n;
	pid_t pid;

	if (fd < 0)
		return kiln_error(ctx, KILN_EXIT_FAILED, "cannot create memfd: %s", strerror(errno));
	pid = fork();
	if (pid < 0) {
		close(fd);
		return kiln_error(ctx, KILN_EXIT_FAILED, "cannot fork: %s", strerror(errno));
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);

		if (devnull >= 0) {
			dup2(devnull, 0);
			dup2(devnull, 1);
		}
		dup2(fd, 2);
		setenv("LC_ALL", "C", 1);
		for (size_t i = 0; env && env[i]; i++)
			putenv((char *)env[i]);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR)
		;
	n = pread(fd, err, RUN_STDERR_MAX, 0);
	close(fd);
	err[n > 0 ? n : 0] = '\0';
	if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0)
		return 0;
	if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 127 && n <= 0)
		return kiln_error(ctx, KILN_EXIT_FAILED, "cannot run '%s': is %s installed? (make deps)", argv[0], package);
	if (WIFSIGNALED(wstatus))
		return kiln_error(ctx, KILN_EXIT_FAILED, "%s killed by signal %d", argv[0], WTERMSIG(wstatus));
	return kiln_error(ctx, KILN_EXIT_FAILED, "%s failed (exit %d): %s", argv[0], WEXITSTATUS(wstatus), last_line(err));
}
