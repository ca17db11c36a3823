/* strmap.c - string keys to numbers: the index of paths every image and archive walk needs. */
#include "kiln.h"

#include <string.h>

struct kiln_strmap_slot {
	char *key;		/* NULL: empty */
	size_t val;
};

/* FNV-1a */
static uint64_t
hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static struct kiln_strmap_slot *
slot_of(const struct kiln_strmap *m, const char *key)
{
	size_t i = hash_str(key) & (m->size - 1);

	while (m->slots[i].key && strcmp(m->slots[i].key, key) != 0)
		i = (i + 1) & (m->size - 1);
	return &m->slots[i];
}

int
kiln_strmap_get(const struct kiln_strmap *m, const char *key, size_t *ret_val)
{
	const struct kiln_strmap_slot *s;

	if (!m->size)
		return 0;
	s = slot_of(m, key);
	if (!s->key)
		return 0;
	*ret_val = s->val;
	return 1;
}

void
kiln_strmap_put(struct kiln_strmap *m, const char *key, size_t val)
{
	struct kiln_strmap_slot *s;

	if ((m->n + 1) * 2 > m->size) {	/* at most half full */
		struct kiln_strmap old = *m;

		m->size = m->size ? m->size * 2 : 1024;
		m->slots = kiln_calloc(m->size, sizeof(*m->slots));
		for (size_t i = 0; i < old.size; i++)
			if (old.slots[i].key)
				*slot_of(m, old.slots[i].key) = old.slots[i];
		free(old.slots);
	}
	s = slot_of(m, key);
	if (!s->key) {
		s->key = kiln_strdup(key);
		m->n++;
	}
	s->val = val;
}

void
kiln_strmap_release(struct kiln_strmap *m)
{
	for (size_t i = 0; i < m->size; i++)
		free(m->slots[i].key);
	free(m->slots);
	memset(m, 0, sizeof(*m));
}
