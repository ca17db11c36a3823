/*
 * accounts.h - the image's users and groups, made without maintainer
 * scripts: Debian's base entries (base-passwd's master files), what packages
 * declare in sysusers.d, and the recipe's [Users]. Pure: text in, text out.
 */
#ifndef KILN_ACCOUNTS_H
#define KILN_ACCOUNTS_H

#include "kiln.h"

struct kiln_account_user {
	char *name, *gecos, *home, *shell;
	unsigned uid, gid;
	char *origin;		/* "base-passwd", "PACKAGE: FILE:LINE" or "RECIPE:LINE" */
};

struct kiln_account_group {
	char *name;
	unsigned gid;
	struct kiln_strv members;
	char *origin;
};

struct kiln_accounts {
	struct kiln_account_user *users;
	size_t n_users;
	struct kiln_account_group *groups;
	size_t n_groups;
	struct kiln_strv ignored;	/* declarations kiln does not act on ("r" ranges), with their origin */
};

void kiln_accounts_release(struct kiln_accounts *a);
static inline void kiln_accounts_releasep(struct kiln_accounts *a) { kiln_accounts_release(a); }

/*
 * kiln_accounts_load_base() - start from base-passwd's passwd.master and
 * group.master (the /etc/passwd and /etc/group formats). Exit 2 naming
 * @origin and the line for a malformed one.
 */
int kiln_accounts_load_base(struct kiln_ctx *ctx, struct kiln_accounts *a, const char *passwd, size_t passwd_len,
			    const char *group, size_t group_len, const char *origin);

/*
 * kiln_accounts_sysusers() - apply one sysusers.d file (@origin: "PACKAGE:
 * PATH", for messages). Supports u (uid "-", N, N:GID, N:GROUP), g, m, and
 * lists r (ranges) as ignored; users and groups that exist are kept, as
 * systemd-sysusers does; "-" takes the highest free id below 1000. Anything
 * else is exit 2 naming @origin and the line.
 */
int kiln_accounts_sysusers(struct kiln_ctx *ctx, struct kiln_accounts *a, const char *text, size_t len,
			   const char *origin);

/*
 * kiln_accounts_add() - a user with its own group, from the recipe's [Users]
 * (@origin "RECIPE:LINE"). A name or id already taken by another account is
 * exit 2; the same account again is fine.
 */
int kiln_accounts_add(struct kiln_ctx *ctx, struct kiln_accounts *a, const char *name, unsigned uid, unsigned gid,
		      const char *home, const char *origin);

/* The user named @name (or with the uid @name spells), or NULL. Borrowed. */
const struct kiln_account_user *kiln_accounts_user(const struct kiln_accounts *a, const char *name);
/* The group's gid in *@ret_gid: 0, or -1 if there is none. */
int kiln_accounts_gid(const struct kiln_accounts *a, const char *name, unsigned *ret_gid);
/* The gids of the groups @user is a member of, besides its own, as "G1,G2" (caller frees; "" for none). */
char *kiln_accounts_supplementary(const struct kiln_accounts *a, const char *user);

/* /etc/passwd and /etc/group, in the order the entries were made. Caller frees both. */
void kiln_accounts_render(const struct kiln_accounts *a, char **ret_passwd, char **ret_group);

#endif
