/* crypto.c - every OpenSSL call of kiln: hashing and base64 (signatures come later). */
#include "kiln.h"

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
