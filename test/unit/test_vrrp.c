/* test_vrrp.c - table-driven tests of the peer writer rule (fenced follows MASTER, split brain). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "gp_check.h"
#include "core/proxy.h"
#include "ha/vrrp.h"

static gp_config_t cfg;
static gp_proxy_t proxy;
static gp_vrrp_t vrrp;

typedef struct peer_case {
	const char *what;        /* description */
	gp_vrrp_state_t me;      /* our effective role */
	const char *my_name;     /* our name */
	bool valid;              /* the peer answered recently */
	gp_vrrp_state_t peer;    /* its role */
	const char *peer_name;   /* its name */
	const char *peer_writer; /* its writer */
	int want;                /* backend index we should follow, -1 none */
} peer_case_t;

static const peer_case_t cases[] = {
        {"backup follows master", GP_VRRP_BACKUP, "ha2", true, GP_VRRP_MASTER, "ha1", "db2", 1},
        {"fault follows master", GP_VRRP_FAULT, "ha2", true, GP_VRRP_MASTER, "ha1", "db3", 2},
        {"master ignores backup", GP_VRRP_MASTER, "ha1", true, GP_VRRP_BACKUP, "ha2", "db2", -1},
        {"split brain: higher name follows", GP_VRRP_MASTER, "ha2", true, GP_VRRP_MASTER, "ha1",
         "db2", 1},
        {"split brain: lower name leads", GP_VRRP_MASTER, "ha1", true, GP_VRRP_MASTER, "ha2", "db2",
         -1},
        {"unknown pair: higher name follows", GP_VRRP_UNKNOWN, "hb", true, GP_VRRP_UNKNOWN, "ha",
         "db1", 0},
        {"stale peer is ignored", GP_VRRP_BACKUP, "ha2", false, GP_VRRP_MASTER, "ha1", "db2", -1},
        {"peer without writer", GP_VRRP_BACKUP, "ha2", true, GP_VRRP_MASTER, "ha1", "", -1},
        {"peer names an unknown backend", GP_VRRP_BACKUP, "ha2", true, GP_VRRP_MASTER, "ha1", "db9",
         -1},
        {"two backups follow nobody", GP_VRRP_BACKUP, "ha2", true, GP_VRRP_BACKUP, "ha1", "db2",
         -1},
};

START_TEST(test_peer_writer)
{
	const peer_case_t *c = &cases[_i];
	memset(&cfg, 0, sizeof(cfg));
	memset(&proxy, 0, sizeof(proxy));
	memset(&vrrp, 0, sizeof(vrrp));
	proxy.vrrp = &vrrp;
	cfg.nbackends = 3;
	for (int i = 0; i < 3; i++) {
		cfg.backends[i].name[0] = 'd';
		cfg.backends[i].name[1] = 'b';
		cfg.backends[i].name[2] = (char)('1' + i);
		proxy.backends[i].conf = &cfg.backends[i];
	}
	proxy.cfg = &cfg;
	proxy.nbackends = 3;
	proxy.vrrp->effective = c->me;
	strcpy(proxy.vrrp->name, c->my_name);
	proxy.vrrp->view.valid = c->valid;
	proxy.vrrp->view.state = c->peer;
	strcpy(proxy.vrrp->view.name, c->peer_name);
	strcpy(proxy.vrrp->view.writer, c->peer_writer);
	ck_assert_msg(gp_vrrp_peer_writer(&proxy) == c->want, "%s: got %d want %d", c->what,
	              gp_vrrp_peer_writer(&proxy), c->want);
}
END_TEST

START_TEST(test_state_names)
{
	for (int i = 0; i < GP_VRRP__COUNT; i++)
		ck_assert_int_eq(gp_vrrp_state_parse(gp_vrrp_state_name((gp_vrrp_state_t)i)), i);
	ck_assert_int_eq(gp_vrrp_state_parse("backup"), GP_VRRP_BACKUP);
	ck_assert_int_eq(gp_vrrp_state_parse("LEADER"), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vrrp");
	TCase *tc = tcase_create("peer");
	tcase_add_loop_test(tc, test_peer_writer, 0, (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_state_names);
	suite_add_tcase(s, tc);
	return gp_check_run(s, CK_NORMAL);
}
