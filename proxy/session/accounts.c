/* accounts.c - reads mysql.global_priv on the loop into a table of accounts kept in a vault. */
#include "session/accounts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "cluster/monitor.h"

#define ACCOUNTS_SQL \
	"SELECT User, Host, Priv, @@GLOBAL.default_password_lifetime FROM mysql.global_priv"
#define ACCOUNTS_FIRST_SLOTS  64   /* rows a read makes room for before it grows */
#define ACCOUNTS_RETRY_MS     500  /* no node to read on yet: try again this soon */
#define ACCOUNTS_UNKNOWN_MS   1000 /* an unknown user asks for a read at most this often */
#define ER_TABLEACCESS_DENIED 1142 /* SELECT command denied to user ... for table ... */

static void accounts_on_timer(uv_timer_t *t);

const char *gp_accounts_state_name(gp_accounts_state_t s)
{
	static const char *const names[] = {"unread", "ok", "denied", "failed"};
	return (unsigned)s < GP_ACCOUNTS__COUNT ? names[s] : "?";
}

gp_status_t gp_accounts_init(gp_accounts_t *a, uv_loop_t *loop, gp_cluster_t *cluster,
                             const gp_config_t *cfg)
{
	memset(a, 0, sizeof(*a));
	a->loop = loop;
	a->cluster = cluster;
	a->refresh_ms = cfg->auth_refresh_ms;
	a->user = strdup(cfg->auth_user);
	a->password = strdup(cfg->auth_password);
	if (!a->user || !a->password) {
		free(a->user);
		gp_config_secret_free(a->password);
		a->user = a->password = NULL;
		return GP_ENOMEM;
	}
	/* One slot a client the proxy admits; untouched slots cost no memory. */
	uint32_t n = (uint32_t)(cfg->limits_max_client_connections > 0
	                                ? cfg->limits_max_client_connections
	                                : 1);
	gp_status_t st = gp_vault_init(&a->secrets, sizeof(gp_learned_t), n);
	a->secrets_ok = st == GP_OK;
	if (!a->secrets_ok)
		gp_log(GP_LOG_ERROR, "auth_vault_failed", "slots=%u error=\"%s\" learned=never", n,
		       gp_strerror(st));
	return GP_OK;
}

void gp_accounts_start(gp_accounts_t *a)
{
	uv_timer_init(a->loop, &a->timer);
	a->timer.data = a;
	uv_unref((uv_handle_t *)&a->timer); /* never what keeps the loop alive */
	a->started = true;
	uv_timer_start(&a->timer, accounts_on_timer, 0, 0);
}

void gp_accounts_stop(gp_accounts_t *a)
{
	if (!a || !a->started || a->closing)
		return;
	a->closing = true;
	uv_close((uv_handle_t *)&a->timer, NULL);
	gp_vault_destroy(&a->table);
	gp_vault_destroy(&a->secrets); /* sessions still holding slots are gone with the loop */
	a->secrets_ok = false;
	a->n = 0;
	if (!a->reading)
		gp_vault_destroy(
		        &a->next); /* else the read's callback does, when the monitor ends it */
	free(a->user);
	gp_config_secret_free(a->password);
	a->user = a->password = NULL;
}

void gp_accounts_reload(gp_accounts_t *a, const gp_config_t *cfg)
{
	if (!a || !a->started || a->closing)
		return;
	char *u = strdup(cfg->auth_user), *pw = strdup(cfg->auth_password);
	if (!u || !pw) {
		free(u);
		gp_config_secret_free(pw);
		gp_log(GP_LOG_ERROR, "auth_reload_failed", "error=\"%s\"", gp_strerror(GP_ENOMEM));
		return;
	}
	bool changed = strcmp(u, a->user) || strcmp(pw, a->password);
	free(a->user);
	gp_config_secret_free(a->password);
	a->user = u;
	a->password = pw;
	a->refresh_ms = cfg->auth_refresh_ms;
	if (changed && !a->reading) /* another account may see other rows (or none) */
		uv_timer_start(&a->timer, accounts_on_timer, 0, 0);
	else if (changed)
		a->reread = true;
}

/* The node to read on: the writer, else the first node up; -1 if none. */
static int accounts_node(const gp_accounts_t *a)
{
	const gp_monitor_t *m = gp_cluster_monitor(a->cluster);
	if (!m)
		return -1;
	int w = gp_cluster_writer(a->cluster);
	if (w >= 0 && (size_t)w < gp_monitor_count(m) && gp_monitor_node_up(m, (size_t)w))
		return w;
	for (size_t i = 0; i < gp_monitor_count(m); i++)
		if (gp_monitor_node_up(m, i))
			return (int)i;
	return -1;
}

/* ---- one read ----------------------------------------------------------------------- */

/* Room for one more row in a->next (doubling it, copied over: the old one is wiped). */
static gp_account_t *accounts_slot(gp_accounts_t *a)
{
	if (a->next.base && a->next_n < a->next.nslots)
		return gp_vault_get(&a->next);
	gp_vault_t bigger;
	uint32_t want = a->next.base ? a->next.nslots * 2 : ACCOUNTS_FIRST_SLOTS;
	if (gp_vault_init(&bigger, sizeof(gp_account_t), want) != GP_OK)
		return NULL;
	for (size_t i = 0; i < a->next_n; i++) {
		gp_account_t *dst = gp_vault_get(&bigger);
		memcpy(dst, a->next.base + i * a->next.slot_size, sizeof(*dst));
	}
	gp_vault_destroy(&a->next);
	a->next = bigger;
	return gp_vault_get(&a->next);
}

static void accounts_on_row(void *arg, char **row, const unsigned long *len, unsigned nf)
{
	gp_accounts_t *a = arg;
	if (a->closing || a->next_bad)
		return;
	if (nf < 4 || !row[0] || !row[1] || !row[2]) {
		a->next_bad = true;
		return;
	}
	a->default_lifetime = row[3] ? strtoll(row[3], NULL, 10) : 0;
	gp_priv_t *p = malloc(sizeof(*p)); /* 5 KB: not on the loop's stack */
	if (!p) {
		a->next_bad = true;
		return;
	}
	if (gp_priv_parse(row[0], len[0], row[1], len[1], row[2], len[2], p) != GP_OK) {
		/* A row the proxy cannot read (an alternative too many, say): that account's logins
		 * teach nothing, the others still do. */
		gp_log(GP_LOG_DEBUG, "auth_account_unreadable", "user_len=%lu", len[0]);
		free(p);
		return;
	}
	gp_account_t *acc = accounts_slot(a);
	if (!acc) {
		a->next_bad = true;
	} else {
		a->next_n++;
		memcpy(acc->user, p->user, sizeof(acc->user));
		acc->closed = p->is_role || p->locked ||
		              gp_priv_password_expired(p, (int64_t)time(NULL), a->default_lifetime);
		for (size_t i = 0; i < p->nauth && acc->nhash < GP_PRIV_MAX_AUTH; i++)
			if (p->auth[i].native &&
			    gp_auth_hash_parse(p->auth[i].auth_string, p->auth[i].auth_string_len,
			                       &acc->hash[acc->nhash]))
				acc->nhash++;
	}
	gp_priv_wipe(p);
	free(p);
}

static void accounts_set_state(gp_accounts_t *a, gp_accounts_state_t st, unsigned code,
                               const char *msg)
{
	bool changed = st != a->state;
	a->state = st;
	a->stats.reads[st]++;
	char q[200];
	gp_log_level_t lvl = !changed               ? GP_LOG_DEBUG
	                     : st == GP_ACCOUNTS_OK ? GP_LOG_INFO
	                                            : GP_LOG_WARN;
	if (st == GP_ACCOUNTS_OK)
		gp_log(lvl, "auth_accounts", "state=ok accounts=%zu user=%s", a->n, a->user);
	else if (st == GP_ACCOUNTS_DENIED)
		gp_log(lvl, "auth_accounts",
		       "state=denied user=%s code=%u sessions_movable=0 "
		       "hint=\"GRANT SELECT ON mysql.global_priv TO the auth.user account\"",
		       a->user, code);
	else
		gp_log(lvl, "auth_accounts", "state=failed user=%s code=%u msg=%s", a->user, code,
		       gp_log_quote(q, sizeof(q), msg, (unsigned)strlen(msg)));
}

static void accounts_schedule(gp_accounts_t *a, uint64_t ms)
{
	if (!a->closing)
		uv_timer_start(&a->timer, accounts_on_timer, ms, 0);
}

static size_t accounts_user_hashes(const gp_accounts_t *a, const char *user, size_t len,
                                   gp_auth_hash_t *out, size_t max, bool *known);

/* A new table: a secret that no longer logs in (password changed, account dropped, locked or
 * expired) is wiped now, so a moved session fails with the server's error, never with it. */
static void accounts_recheck(gp_accounts_t *a)
{
	for (uint32_t i = 0; a->secrets_ok && i < a->secrets.nslots; i++) {
		gp_learned_t *l =
		        (gp_learned_t *)(a->secrets.base + (size_t)i * a->secrets.slot_size);
		if (!l->live || l->dropped)
			continue;
		gp_auth_hash_t h[GP_PRIV_MAX_AUTH];
		bool known, still = false;
		size_t nh = accounts_user_hashes(a, l->user, strlen(l->user), h, GP_PRIV_MAX_AUTH,
		                                 &known);
		for (size_t k = 0; k < nh && !still; k++)
			still = gp_auth_secret_matches(&l->secret, &h[k]);
		explicit_bzero(h, sizeof(h));
		if (still)
			continue;
		gp_auth_secret_wipe(&l->secret);
		l->dropped = true;
		a->stats.dropped++;
		a->stats.learned_now--;
		gp_log(GP_LOG_INFO, "auth_forgotten", "user=%s why=%s", l->user,
		       known ? "changed_or_closed" : "dropped");
	}
}

static void accounts_on_read(void *arg, bool ok, unsigned code, const char *msg)
{
	gp_accounts_t *a = arg;
	a->reading = false;
	if (a->closing) {
		gp_vault_destroy(&a->next);
		return;
	}
	if (ok && !a->next_bad) {
		gp_vault_destroy(&a->table); /* wiped */
		a->table = a->next;
		a->n = a->next_n;
		memset(&a->next, 0, sizeof(a->next));
		a->generation++;
		accounts_set_state(a, GP_ACCOUNTS_OK, 0, "");
		accounts_recheck(a);
	} else {
		gp_vault_destroy(&a->next);
		if (ok) /* every row came, but one did not fit: keep the last good table */
			accounts_set_state(a, GP_ACCOUNTS_FAILED, 0, "out of memory");
		else if (code == 0 && !strcmp(msg, "monitor closing"))
			a->reread = true; /* a reload replaced the monitor: read again soon */
		else
			accounts_set_state(a,
			                   code == ER_TABLEACCESS_DENIED ? GP_ACCOUNTS_DENIED
			                                                 : GP_ACCOUNTS_FAILED,
			                   code, msg);
	}
	a->next_n = 0;
	a->next_bad = false;
	bool again = a->reread;
	a->reread = false;
	accounts_schedule(a, again ? ACCOUNTS_UNKNOWN_MS : (uint64_t)a->refresh_ms);
}

static void accounts_read(gp_accounts_t *a)
{
	int node = accounts_node(a);
	gp_monitor_t *m = gp_cluster_monitor(a->cluster);
	if (node < 0 || !m) {
		accounts_schedule(a, ACCOUNTS_RETRY_MS);
		return;
	}
	a->last_read_ms = uv_now(a->loop);
	a->next_n = 0;
	a->next_bad = false;
	if (gp_monitor_read(m, (size_t)node, ACCOUNTS_SQL, a->user, a->password, accounts_on_row,
	                    accounts_on_read, a) != GP_OK) {
		accounts_schedule(a, ACCOUNTS_RETRY_MS); /* not started yet, or out of memory */
		return;
	}
	a->reading = true;
	if (a->unknown_read)
		a->stats.unknown_user_reads++;
	a->unknown_read = false;
}

static void accounts_on_timer(uv_timer_t *t)
{
	gp_accounts_t *a = t->data;
	if (!a->closing && !a->reading)
		accounts_read(a);
}

/* ---- lookups ----------------------------------------------------------------------------- */

static size_t accounts_user_hashes(const gp_accounts_t *a, const char *user, size_t len,
                                   gp_auth_hash_t *out, size_t max, bool *known)
{
	size_t got = 0;
	*known = false;
	for (size_t i = 0; a->table.base && i < a->n; i++) {
		const gp_account_t *acc =
		        (const gp_account_t *)(a->table.base + i * a->table.slot_size);
		if (strlen(acc->user) != len || memcmp(acc->user, user, len) != 0)
			continue;
		*known = true;
		for (size_t k = 0; !acc->closed && k < acc->nhash && got < max; k++)
			out[got++] = acc->hash[k];
	}
	return got;
}

size_t gp_accounts_hashes(gp_accounts_t *a, const char *user, size_t len, gp_auth_hash_t *out,
                          size_t max)
{
	bool known;
	size_t got = accounts_user_hashes(a, user, len, out, max, &known);
	if (!known && a->started && !a->closing && a->state != GP_ACCOUNTS_DENIED) {
		/* A user created since the last read: read again soon, not at every login. */
		uint64_t now = uv_now(a->loop), next = a->last_read_ms + ACCOUNTS_UNKNOWN_MS;
		uint64_t wait = !a->last_read_ms || now >= next ? 0 : next - now;
		if (a->reading) {
			a->reread = true;
		} else if (wait < (uint64_t)a->refresh_ms) {
			/* a sooner periodic read is not put off, and a second unknown login within
			 * the wait moves nothing */
			a->unknown_read = true;
			uv_timer_start(&a->timer, accounts_on_timer, wait, 0);
		}
	}
	return got;
}

/* The readers take NULL too: a proxy without accounts (unit tests) has read none. */
gp_accounts_state_t gp_accounts_state(const gp_accounts_t *a)
{
	return a ? a->state : GP_ACCOUNTS_UNREAD;
}

size_t gp_accounts_count(const gp_accounts_t *a)
{
	return a ? a->n : 0;
}

uint64_t gp_accounts_generation(const gp_accounts_t *a)
{
	return a ? a->generation : 0;
}

const gp_accounts_stats_t *gp_accounts_stats(const gp_accounts_t *a)
{
	static const gp_accounts_stats_t none;
	return a ? &a->stats : &none;
}

/* ---- what sessions learn ---------------------------------------------------------------- */

const char *gp_learn_result_name(gp_learn_result_t r)
{
	static const char *const names[] = {"learned", "not_native", "no_hash", "mismatch", "full"};
	return (unsigned)r < GP_LEARN__COUNT ? names[r] : "?";
}

void gp_accounts_forget(gp_accounts_t *a, gp_learned_t *held)
{
	if (!a || !held || !a->secrets_ok)
		return;
	if (held->live && !held->dropped)
		a->stats.learned_now--;
	gp_vault_put(&a->secrets, held); /* wiped */
}

bool gp_accounts_learned(const gp_learned_t *held)
{
	return held && held->live && !held->dropped;
}

/* Learn l's secret against user's stored hashes into a new slot. */
static gp_learn_result_t accounts_learn(gp_accounts_t *a, const gp_core_learn_t *l,
                                        gp_learned_t **held)
{
	if (!gp_learn_ready(l))
		return GP_LEARN_NOT_NATIVE;
	const gp_learn_ex_t *x = l->ex;
	gp_auth_hash_t h[GP_PRIV_MAX_AUTH];
	size_t nh = gp_accounts_hashes(a, x->user, strlen(x->user), h, GP_PRIV_MAX_AUTH);
	gp_auth_secret_t s;
	bool ok = false;
	for (size_t k = 0; k < nh && !ok; k++)
		ok = gp_auth_native_learn(x->nonce, sizeof(x->nonce), x->reply, x->reply_len, &h[k],
		                          &s);
	explicit_bzero(h, sizeof(h));
	if (!ok)
		return nh ? GP_LEARN_MISMATCH : GP_LEARN_NO_HASH;
	gp_learned_t *slot = a->secrets_ok ? gp_vault_get(&a->secrets) : NULL;
	if (!slot) {
		gp_auth_secret_wipe(&s);
		return GP_LEARN_FULL;
	}
	slot->live = true;
	slot->secret = s;
	gp_auth_secret_wipe(&s);
	memcpy(slot->user, x->user, sizeof(slot->user));
	a->stats.learned_now++;
	*held = slot;
	return GP_LEARN_LEARNED;
}

gp_learn_result_t gp_accounts_login(gp_accounts_t *a, gp_learned_t **held, gp_core_learn_t *l)
{
	gp_accounts_forget(a, *held);
	*held = NULL;
	gp_learn_result_t r = a ? accounts_learn(a, l, held) : GP_LEARN_NO_HASH;
	if (a)
		a->stats.learn[r]++;
	gp_learn_wipe(l);
	return r;
}
