/* pgp.c - run gpgv on in-memory files (memfds): verify, then hand back only what was signed. */
#define _GNU_SOURCE
#include "pgp.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define KEYRING_MAX (16 * 1024 * 1024)

int
kiln_pgp_dearmor(const char *data, size_t len, unsigned char **ret, size_t *ret_len)
{
	static const char begin[] = "-----BEGIN PGP PUBLIC KEY BLOCK-----";
	static const char endm[] = "-----END PGP PUBLIC KEY BLOCK-----";
	struct kiln_buf out = { 0 };
	const char *p = data, *end = data + len;
	int blocks = 0;

	while ((p = memmem(p, end - p, begin, sizeof(begin) - 1))) {
		const char *e = memmem(p, end - p, endm, sizeof(endm) - 1);
		struct kiln_buf b64 = { 0 };
		int in_body = 0;
		unsigned char *bin;
		size_t binlen;

		if (!e)
			break;
		p = memchr(p, '\n', e - p);
		while (p && p < e) {
			const char *nl = memchr(p + 1, '\n', e - p - 1);
			const char *ls = p + 1, *le = nl ? nl : e;
			size_t n = le - ls;

			if (n && ls[n - 1] == '\r')
				n--;
			if (!in_body) {
				if (n == 0 || strspn(ls, " \t") >= n)	/* ls..n lies within the block */
					in_body = 1;	/* blank line ends the armor headers */
				else if (!memchr(ls, ':', n))
					in_body = 1, kiln_buf_add(&b64, ls, n);	/* no headers at all */
			} else if (n && ls[0] != '=') {
				kiln_buf_add(&b64, ls, n);
			}
			p = nl;
		}
		if (kiln_base64_decode(b64.data ? b64.data : "", b64.len, &bin, &binlen) < 0) {
			kiln_buf_release(&b64);
			kiln_buf_release(&out);
			return -1;
		}
		if (binlen == 0) {
			free(bin);
			kiln_buf_release(&b64);
			kiln_buf_release(&out);
			return -1;
		}
		kiln_buf_add(&out, bin, binlen);
		free(bin);
		kiln_buf_release(&b64);
		blocks++;
		p = e + sizeof(endm) - 1;
	}
	if (!blocks) {
		kiln_buf_release(&out);
		return -1;
	}
	*ret = (unsigned char *)kiln_buf_detach(&out, ret_len);
	return 0;
}

static int
memfd_with(const char *name, const void *data, size_t len)
{
	int fd = memfd_create(name, MFD_CLOEXEC);
	const char *p = data;

	if (fd < 0)
		return -1;
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			close(fd);
			return -1;
		}
		p += n;
		len -= n;
	}
	return fd;
}

static int
read_fd_all(int fd, char **ret, size_t *ret_len, size_t max)
{
	struct kiln_buf b = { 0 };
	char chunk[65536];
	ssize_t n;

	if (lseek(fd, 0, SEEK_SET) < 0)
		return -1;
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || b.len + n > max) {
			kiln_buf_release(&b);
			return -1;
		}
		kiln_buf_add(&b, chunk, n);
	}
	*ret = kiln_buf_detach(&b, ret_len);
	return 0;
}

/* Adds a keyring to gpgv's arguments: binary keyrings by path, armored ones dearmored into a memfd. */
static int
add_keyring(struct kiln_ctx *ctx, const char *path, const char *armored, struct kiln_strv *args,
	    int *fds, size_t *n_fds)
{
	_cleanup_free_ char *data = NULL;
	_cleanup_free_ unsigned char *bin = NULL;
	size_t len = 0, binlen;
	int fd;

	if (path) {
		if (kiln_read_file(ctx, path, KEYRING_MAX, &data, &len) < 0)
			return kiln_error_replace(ctx, KILN_EXIT_USAGE, "cannot read keyring: %s", ctx->msg);
		if (len == 0)
			return kiln_error(ctx, KILN_EXIT_USAGE, "keyring '%s' is empty", path);
		if (!memmem(data, len, "-----BEGIN PGP PUBLIC KEY BLOCK-----", 36)) {
			kiln_strv_push(args, "--keyring");
			kiln_strv_push(args, path);
			return 0;
		}
		armored = data;
	} else {
		len = strlen(armored);
	}
	if (kiln_pgp_dearmor(armored, len, &bin, &binlen) < 0)
		return kiln_error(ctx, KILN_EXIT_USAGE, "keyring '%s' is not a valid ASCII-armored key block",
				  path ? path : "(inline Signed-By)");
	fd = memfd_with("kiln-keyring", bin, binlen);
	if (fd < 0)
		return kiln_error(ctx, KILN_EXIT_FAILED, "cannot create memfd: %s", strerror(errno));
	fds[(*n_fds)++] = fd;
	kiln_strv_push(args, "--keyring");
	kiln_strv_push_take(args, kiln_asprintf("/proc/self/fd/%d", fd));
	return 0;
}

static int
status_has(const char *status, const char *word)
{
	_cleanup_free_ char *needle = kiln_asprintf("[GNUPG:] %s ", word);
	_cleanup_free_ char *needle_eol = kiln_asprintf("[GNUPG:] %s\n", word);

	return strstr(status, needle) || strstr(status, needle_eol);
}

int
kiln_pgp_verify_clearsigned(struct kiln_ctx *ctx, const char *what,
			    const struct kiln_strv *keyrings, const char *inline_key,
			    const char *data, size_t len, char **ret_text, size_t *ret_len,
			    char ret_fpr[65])
{
	struct kiln_strv args = { 0 };
	int fds[64], in_fd = -1, out_fd = -1, st_fd = -1, wstatus = 0;
	size_t n_fds = 0, slen = 0, tlen = 0;
	char *status = NULL, *text = NULL;
	const char *gpgv = getenv("KILN_GPGV");
	const char *vs;
	pid_t pid;
	int rc = -1;

	if (keyrings->n + 1 > ARRAY_SIZE(fds) - 3)
		return kiln_error(ctx, KILN_EXIT_USAGE, "too many keyrings for '%s'", what);
	kiln_strv_push(&args, gpgv && *gpgv ? gpgv : "gpgv");
	for (size_t i = 0; i < keyrings->n; i++)
		if (add_keyring(ctx, keyrings->v[i], NULL, &args, fds, &n_fds) < 0)
			goto out;
	if (inline_key && add_keyring(ctx, NULL, inline_key, &args, fds, &n_fds) < 0)
		goto out;
	if (n_fds == 0 && keyrings->n == 0 && !inline_key) {
		kiln_error(ctx, KILN_EXIT_INTEGRITY, "'%s' cannot be verified: no trusted keyring (Signed-By, Keyring= or trusted.gpg.d)", what);
		goto out;
	}
	if ((in_fd = memfd_with("kiln-inrelease", data, len)) >= 0)
		fds[n_fds++] = in_fd;
	if ((out_fd = memfd_create("kiln-signed", MFD_CLOEXEC)) >= 0)
		fds[n_fds++] = out_fd;
	if ((st_fd = memfd_create("kiln-status", MFD_CLOEXEC)) >= 0)
		fds[n_fds++] = st_fd;
	if (in_fd < 0 || out_fd < 0 || st_fd < 0) {
		kiln_error(ctx, KILN_EXIT_FAILED, "cannot create memfd: %s", strerror(errno));
		goto out;
	}
	kiln_strv_push(&args, "--status-fd");
	kiln_strv_push_take(&args, kiln_asprintf("%d", st_fd));
	kiln_strv_push(&args, "--output");
	kiln_strv_push_take(&args, kiln_asprintf("/proc/self/fd/%d", out_fd));
	kiln_strv_push(&args, "--");
	kiln_strv_push_take(&args, kiln_asprintf("/proc/self/fd/%d", in_fd));

	pid = fork();
	if (pid < 0) {
		kiln_error(ctx, KILN_EXIT_FAILED, "cannot fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);

		for (size_t i = 0; i < n_fds; i++)
			fcntl(fds[i], F_SETFD, 0);
		if (devnull >= 0) {
			dup2(devnull, 0);
			dup2(devnull, 1);
			dup2(devnull, 2);
		}
		setenv("GNUPGHOME", "/nonexistent/kiln-gpgv-home", 1);
		setenv("LC_ALL", "C", 1);
		execvp(args.v[0], args.v);
		_exit(127);
	}
	while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR)
		;
	if (read_fd_all(st_fd, &status, &slen, 1024 * 1024) < 0) {
		kiln_error(ctx, KILN_EXIT_FAILED, "cannot read gpgv's status");
		goto out;
	}
	if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 127 && slen == 0) {
		kiln_error(ctx, KILN_EXIT_FAILED, "cannot run '%s' to verify '%s': is gnupg's gpgv installed?", args.v[0], what);
		goto out;
	}
	if (status_has(status, "NO_PUBKEY")) {
		kiln_error(ctx, KILN_EXIT_INTEGRITY, "'%s': signed by a key that is not in the keyring", what);
		goto out;
	}
	if (status_has(status, "BADSIG") || status_has(status, "ERRSIG") ||
	    status_has(status, "EXPKEYSIG") || status_has(status, "REVKEYSIG") ||
	    status_has(status, "EXPSIG")) {
		kiln_error(ctx, KILN_EXIT_INTEGRITY, "'%s': bad OpenPGP signature", what);
		goto out;
	}
	vs = strstr(status, "[GNUPG:] VALIDSIG ");
	if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0 || !vs) {
		kiln_error(ctx, KILN_EXIT_INTEGRITY, "'%s': no valid OpenPGP signature", what);
		goto out;
	}
	if (read_fd_all(out_fd, &text, &tlen, len) < 0) {
		kiln_error(ctx, KILN_EXIT_FAILED, "cannot read gpgv's output for '%s'", what);
		goto out;
	}
	vs += strlen("[GNUPG:] VALIDSIG ");
	memset(ret_fpr, 0, 65);
	for (int i = 0; i < 64 && vs[i] && vs[i] != ' ' && vs[i] != '\n'; i++)
		ret_fpr[i] = vs[i];
	*ret_text = text;
	*ret_len = tlen;
	rc = 0;
out:
	for (size_t i = 0; i < n_fds; i++)
		close(fds[i]);
	free(status);
	kiln_strv_release(&args);
	return rc;
}
