/* crypto.c - every OpenSSL call of kiln: hashing and base64 (signatures come later). */
#include "kiln.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <openssl/evp.h>

void
kiln_sha256_hex(const void *data, size_t len, char hex[65])
{
	unsigned char md[32];
	unsigned int mdlen = 0;

	EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
	for (unsigned i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

int
kiln_base64_decode(const char *in, size_t inlen, unsigned char **ret, size_t *ret_len)
{
	EVP_ENCODE_CTX *ec = EVP_ENCODE_CTX_new();
	unsigned char *out = kiln_malloc(inlen / 4 * 3 + 4);
	int n = 0, m = 0;

	if (!ec)
		abort();
	EVP_DecodeInit(ec);
	if (EVP_DecodeUpdate(ec, out, &n, (const unsigned char *)in, (int)inlen) < 0 ||
	    EVP_DecodeFinal(ec, out + n, &m) < 0) {
		EVP_ENCODE_CTX_free(ec);
		free(out);
		return -1;
	}
	EVP_ENCODE_CTX_free(ec);
	*ret = out;
	*ret_len = (size_t)n + m;
	return 0;
}

#include <errno.h>
#include <fcntl.h>
#include <ctype.h>
#include <string.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>

#define KEY_FILE_MAX (64 * 1024)

static int
write_new_file(struct kiln_ctx *ctx, const char *path, const void *data, size_t len, int mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	const char *p = data;

	if (fd < 0)
		return kiln_error(ctx, errno == EEXIST ? KILN_EXIT_USAGE : KILN_EXIT_FAILED,
				  "cannot create '%s': %s", path, errno == EEXIST ? "it exists (kiln never overwrites a key)" : strerror(errno));
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			close(fd);
			unlink(path);
			return kiln_error(ctx, KILN_EXIT_FAILED, "cannot write '%s': %s", path, strerror(e));
		}
		p += n;
		len -= n;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		unlink(path);
		return kiln_error(ctx, KILN_EXIT_FAILED, "cannot write '%s': %s", path, strerror(errno));
	}
	return 0;
}

/* PEM of @pkey (private or public) into a new buffer; the private one is wiped by the caller. */
static char *
pem_of(EVP_PKEY *pkey, int private, size_t *ret_len)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p, *out = NULL;
	long n;

	if (!b)
		return NULL;
	if (private ? PEM_write_bio_PrivateKey(b, pkey, NULL, NULL, 0, NULL, NULL) : PEM_write_bio_PUBKEY(b, pkey)) {
		n = BIO_get_mem_data(b, &p);
		out = kiln_malloc(n + 1);
		memcpy(out, p, n);
		out[n] = '\0';
		*ret_len = n;
	}
	BIO_free(b);	/* BIO_s_mem does not wipe: the key bytes of a private PEM are short-lived */
	return out;
}

int
kiln_keygen(struct kiln_ctx *ctx, const char *path)
{
	char *pub_path = kiln_asprintf("%s.pub", path);
	EVP_PKEY *pkey = NULL;
	EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	char *priv = NULL, *pub = NULL;
	size_t priv_len = 0, pub_len = 0;
	int rc = -1;

	if (access(path, F_OK) == 0 || access(pub_path, F_OK) == 0) {
		kiln_error(ctx, KILN_EXIT_USAGE, "'%s' or '%s' exists (kiln never overwrites a key)", path, pub_path);
		goto out;
	}
	if (!pc || EVP_PKEY_keygen_init(pc) <= 0 || EVP_PKEY_keygen(pc, &pkey) <= 0) {
		kiln_error(ctx, KILN_EXIT_FAILED, "cannot generate an Ed25519 key");
		goto out;
	}
	priv = pem_of(pkey, 1, &priv_len);
	pub = pem_of(pkey, 0, &pub_len);
	if (!priv || !pub) {
		kiln_error(ctx, KILN_EXIT_FAILED, "cannot encode the key");
		goto out;
	}
	if (write_new_file(ctx, path, priv, priv_len, 0600) < 0)
		goto out;
	if (write_new_file(ctx, pub_path, pub, pub_len, 0644) < 0) {
		unlink(path);
		goto out;
	}
	rc = 0;
out:
	if (priv) {
		OPENSSL_cleanse(priv, priv_len);
		free(priv);
	}
	free(pub);
	free(pub_path);
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(pc);
	return rc;
}

static EVP_PKEY *
key_from_pem(struct kiln_ctx *ctx, const char *pem, size_t len, int private, const char *what)
{
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	EVP_PKEY *pkey = b ? (private ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : PEM_read_bio_PUBKEY(b, NULL, NULL, NULL)) : NULL;

	BIO_free(b);
	if (!pkey || EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(pkey);
		kiln_error(ctx, KILN_EXIT_USAGE, "'%s' is not an Ed25519 %s key in PEM", what, private ? "private" : "public");
		return NULL;
	}
	return pkey;
}

static EVP_PKEY *
load_key(struct kiln_ctx *ctx, const char *path, int private)
{
	char *pem = NULL;
	size_t len = 0;
	EVP_PKEY *pkey;

	if (kiln_read_file(ctx, path, KEY_FILE_MAX, &pem, &len) < 0)
		return NULL;
	pkey = key_from_pem(ctx, pem, len, private, path);
	OPENSSL_cleanse(pem, len);
	free(pem);
	return pkey;
}

int
kiln_sign(struct kiln_ctx *ctx, const char *key_path, const void *data, size_t len, char **ret_b64)
{
	EVP_PKEY *pkey = load_key(ctx, key_path, 1);
	EVP_MD_CTX *md;
	unsigned char sig[64];
	size_t siglen = sizeof(sig);
	char b64[96];
	int ok;

	if (!pkey)
		return -1;
	md = EVP_MD_CTX_new();
	ok = md && EVP_DigestSignInit(md, NULL, NULL, NULL, pkey) > 0 &&
	     EVP_DigestSign(md, sig, &siglen, data, len) > 0 && siglen == 64;
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pkey);
	if (!ok)
		return kiln_error(ctx, KILN_EXIT_FAILED, "cannot sign with '%s'", key_path);
	EVP_EncodeBlock((unsigned char *)b64, sig, 64);
	*ret_b64 = kiln_asprintf("%s\n", b64);
	return 0;
}

static int
verify_with(struct kiln_ctx *ctx, EVP_PKEY *pkey, const void *data, size_t len, const char *sig_b64, size_t sig_len,
	    const char *what, const char *keyname)
{
	EVP_MD_CTX *md;
	unsigned char *sig = NULL;
	size_t n = 0;
	int ok;

	if (kiln_base64_decode(sig_b64, sig_len, &sig, &n) < 0 || n != 64) {
		free(sig);
		EVP_PKEY_free(pkey);
		return kiln_error(ctx, KILN_EXIT_INTEGRITY, "%s: the signature is not 64 bytes of base64", what);
	}
	md = EVP_MD_CTX_new();
	ok = md && EVP_DigestVerifyInit(md, NULL, NULL, NULL, pkey) > 0 && EVP_DigestVerify(md, sig, n, data, len) == 1;
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pkey);
	free(sig);
	if (!ok)
		return kiln_error(ctx, KILN_EXIT_INTEGRITY, "%s: the signature does not verify with '%s'", what, keyname);
	return 0;
}

int
kiln_verify(struct kiln_ctx *ctx, const char *pub_path, const void *data, size_t len, const char *sig_b64,
	    size_t sig_len, const char *what)
{
	EVP_PKEY *pkey = load_key(ctx, pub_path, 0);

	if (!pkey)
		return -1;
	return verify_with(ctx, pkey, data, len, sig_b64, sig_len, what, pub_path);
}

int
kiln_verify_pem(struct kiln_ctx *ctx, const char *pem, const void *data, size_t len, const char *sig_b64,
		size_t sig_len, const char *what)
{
	EVP_PKEY *pkey = key_from_pem(ctx, pem, strlen(pem), 0, "trusted key");

	if (!pkey)
		return -1;
	return verify_with(ctx, pkey, data, len, sig_b64, sig_len, what, "a trusted key");
}

static void
hex_of(const unsigned char *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static int
unhex(const char *hex, unsigned char *out, size_t n)
{
	if (strlen(hex) != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		if (!isxdigit((unsigned char)hex[2 * i]) || !isxdigit((unsigned char)hex[2 * i + 1]) ||
		    sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (unsigned char)v;
	}
	return 0;
}

int
kiln_key_public_hex(struct kiln_ctx *ctx, const char *key_path, int private, char hex[65])
{
	EVP_PKEY *pkey = load_key(ctx, key_path, private);
	unsigned char raw[32];
	size_t n = sizeof(raw);
	int ok;

	if (!pkey)
		return -1;
	ok = EVP_PKEY_get_raw_public_key(pkey, raw, &n) == 1 && n == 32;
	EVP_PKEY_free(pkey);
	if (!ok)
		return kiln_error(ctx, KILN_EXIT_FAILED, "cannot read the public half of '%s'", key_path);
	hex_of(raw, 32, hex);
	return 0;
}

int
kiln_sign_hex(struct kiln_ctx *ctx, const char *key_path, const void *data, size_t len, char hex[129])
{
	_cleanup_free_ char *b64 = NULL;
	unsigned char *sig = NULL;
	size_t n = 0;

	if (kiln_sign(ctx, key_path, data, len, &b64) < 0)
		return -1;
	if (kiln_base64_decode(b64, strlen(b64), &sig, &n) < 0 || n != 64) {
		free(sig);
		return kiln_error(ctx, KILN_EXIT_FAILED, "cannot sign with '%s'", key_path);
	}
	hex_of(sig, 64, hex);
	free(sig);
	return 0;
}

int
kiln_verify_raw_hex(const char *pub_hex, const void *data, size_t len, const char *sig_hex)
{
	unsigned char pub[32], sig[64];
	EVP_PKEY *pkey;
	EVP_MD_CTX *md;
	int ok;

	if (!pub_hex || !sig_hex || unhex(pub_hex, pub, 32) < 0 || unhex(sig_hex, sig, 64) < 0)
		return 0;
	pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
	md = EVP_MD_CTX_new();
	ok = pkey && md && EVP_DigestVerifyInit(md, NULL, NULL, NULL, pkey) > 0 && EVP_DigestVerify(md, sig, 64, data, len) == 1;
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pkey);
	return ok;
}

struct kiln_sha256_stream {
	EVP_MD_CTX *md;
};

struct kiln_sha256_stream *
kiln_sha256_stream_new(void)
{
	struct kiln_sha256_stream *h = kiln_calloc(1, sizeof(*h));

	h->md = EVP_MD_CTX_new();
	if (!h->md || EVP_DigestInit_ex(h->md, EVP_sha256(), NULL) != 1)
		abort();
	return h;
}

void
kiln_sha256_stream_add(struct kiln_sha256_stream *h, const void *data, size_t len)
{
	EVP_DigestUpdate(h->md, data, len);
}

void
kiln_sha256_stream_end(struct kiln_sha256_stream *h, char hex[65])
{
	unsigned char md[32];
	unsigned int n = 0;

	EVP_DigestFinal_ex(h->md, md, &n);
	for (unsigned i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	EVP_MD_CTX_free(h->md);
	free(h);
}

#include <openssl/rand.h>

int
kiln_random_hex(char *hex, size_t bytes)
{
	unsigned char buf[64];

	if (bytes > sizeof(buf) || RAND_bytes(buf, (int)bytes) != 1)
		return -1;
	for (size_t i = 0; i < bytes; i++)
		snprintf(hex + 2 * i, 3, "%02x", buf[i]);
	OPENSSL_cleanse(buf, sizeof(buf));
	return 0;
}

int
kiln_file_sha256(const char *path, char hex[65])
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct kiln_sha256_stream *h;
	char buf[1 << 16];
	ssize_t n;

	if (fd < 0)
		return -1;
	h = kiln_sha256_stream_new();
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		kiln_sha256_stream_add(h, buf, (size_t)n);
	}
	kiln_sha256_stream_end(h, hex);
	close(fd);
	return n < 0 ? -1 : 0;
}
