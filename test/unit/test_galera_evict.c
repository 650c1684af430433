/* test_galera_evict.c - eviction choices: the survivor, stale evict lists, a whole group. */

/* Which node carries an eviction of db3: up, Synced, Primary, ready; config order. */
START_TEST(test_pick_survivor)
{
	gp_probe_t p[3];
	const gp_probe_t *pp[3] = {&p[0], &p[1], &p[2]};
	bool up[3] = {true, true, false};

	for (int i = 0; i < 3; i++) {
		probe_synced(&p[i]);
		snprintf(p[i].gcomm_uuid, sizeof(p[i].gcomm_uuid),
		         "00000000-0000-0000-0000-00000000000%d", i);
	}
	ck_assert_int_eq(gp_galera_pick_survivor(pp, up, 3, 2, 0), 0);
	ck_assert_int_eq(gp_galera_pick_survivor(pp, up, 3, 2, 1u << 0), 1); /* db1 tried */
	ck_assert_int_eq(gp_galera_pick_survivor(pp, up, 3, 2, 3u), -1);     /* both tried */
	ck_assert_int_eq(gp_galera_pick_survivor(pp, up, 3, 0, 0), 1);       /* db3 is down */
	up[0] = false;
	ck_assert_int_eq(gp_galera_pick_survivor(pp, up, 3, 2, 0), 1);
	up[0] = true;
	p[0].ok = false; /* one failed probe does not disqualify: its last values count */
	ck_assert_int_eq(gp_galera_pick_survivor(pp, up, 3, 2, 0), 0);
	p[0].local_state = 2; /* donor */
	ck_assert_int_eq(gp_galera_pick_survivor(pp, up, 3, 2, 0), 1);
	probe_synced(&p[0]);
	p[0].cluster_status = GP_CLUSTER_NON_PRIMARY;
	ck_assert_int_eq(gp_galera_pick_survivor(pp, up, 3, 2, 0), 1);
	probe_synced(&p[0]);
	p[0].wsrep_on = false;
	ck_assert_int_eq(gp_galera_pick_survivor(pp, up, 3, 2, 0), 1);
	probe_synced(&p[0]);
	p[0].provider = false;
	ck_assert_int_eq(gp_galera_pick_survivor(pp, up, 3, 2, 0), 1);
	probe_synced(&p[0]);
	p[0].ready = false;
	ck_assert_int_eq(gp_galera_pick_survivor(pp, up, 3, 2, 0), 1);
	probe_synced(&p[0]);
	p[0].have_vars = false;
	ck_assert_int_eq(gp_galera_pick_survivor(pp, up, 3, 2, 0), 1);
	probe_synced(&p[0]);
	snprintf(p[0].gcomm_uuid, sizeof(p[0].gcomm_uuid), "%s", p[2].gcomm_uuid); /* same node */
	ck_assert_int_eq(gp_galera_pick_survivor(pp, up, 3, 2, 0), 1);
	pp[0] = NULL;
	pp[1] = NULL;
	ck_assert_int_eq(gp_galera_pick_survivor(pp, up, 3, 2, 0), -1);
}
END_TEST

/* wsrep_evs_evict_list: parsed into the probe; cleared only when every entry is proved gone. */
START_TEST(test_evict_list_stale)
{
	static const char dead[3][GP_UUID_MAX] = {
	        "f0eb00fa-e9bb-11f1-ae18-82916018b41f",
	        "f128750e-e9bb-11f1-bfa9-e383c22b43c2",
	        "f0eb00fa-e9bb-11f1-ae19-82916018b41f",
	};
	static const struct {
		const char *list; /* wsrep_evs_evict_list as the server shows it */
		int count;        /* entries parsed */
		size_t n_dead;    /* how many of dead[] the proxy knows */
		bool stale;       /* gp_galera_evict_list_stale */
	} t[] = {
	        {"", 0, 3, false}, /* empty: nothing to clear */
	        {"f0eb00fa-e9bb-11f1-ae18-82916018b41f", 1, 3, true},
	        {"f0eb00fa-e9bb-11f1-ae18-82916018b41f", 1, 0, false}, /* not evicted here */
	        {"f0eb00fa-e9bb-11f1-ae18-82916018b41f,f128750e-e9bb-11f1-bfa9-e383c22b43c2", 2, 3,
	         true},
	        {"f0eb00fa-e9bb-11f1-ae18-82916018b41f,f128750e-e9bb-11f1-bfa9-e383c22b43c2", 2, 1,
	         false}, /* the second one is someone else's */
	        {"f0eb00fa-e9bb-11f1-ae18-82916018b41f,1234abcd-1111-11f1-8000-0123456789ab", 2, 3,
	         false}, /* an operator's evs.evict keeps the list */
	        {"f0eb00fa-e9bb-11f1-ae18-82916018b41f,garbage", 2, 3, false},
	        {"F0EB00FA-E9BB-11F1-AE18-82916018B41F", 1, 3, false}, /* not as Galera writes */
	        {",f0eb00fa-e9bb-11f1-ae18-82916018b41f,", 1, 3, true},
	        {"f0eb00fa-e9bb-11f1-ae18-82916018b41f,f0eb00fa-e9bb-11f1-ae18-82916018b41f,"
	         "f0eb00fa-e9bb-11f1-ae18-82916018b41f,f0eb00fa-e9bb-11f1-ae18-82916018b41f,"
	         "f0eb00fa-e9bb-11f1-ae18-82916018b41f,f0eb00fa-e9bb-11f1-ae18-82916018b41f,"
	         "f0eb00fa-e9bb-11f1-ae18-82916018b41f,f0eb00fa-e9bb-11f1-ae18-82916018b41f,"
	         "f0eb00fa-e9bb-11f1-ae18-82916018b41f",
	         9, 3, false}, /* more than the probe keeps: unknown entries */
	};
	gp_probe_t p;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		probe_synced(&p);
		ck_assert(gp_probe_set_var(&p, "WSREP_EVS_EVICT_LIST", t[i].list));
		ck_assert_int_eq(p.evict_count, t[i].count);
		ck_assert_msg(gp_galera_evict_list_stale(&p, dead, t[i].n_dead, NULL, 0) ==
		                      t[i].stale,
		              "case %zu", i);
	}
	/* A probe that did not return the variable (or never succeeded) clears nothing. */
	probe_synced(&p);
	ck_assert(!gp_galera_evict_list_stale(&p, dead, 3, NULL, 0));
	ck_assert(!gp_galera_evict_list_stale(NULL, dead, 3, NULL, 0));
	gp_probe_begin(&p);
	ck_assert_int_eq(p.evict_count, 0);
}
END_TEST

/* Three members of one Primary component, each under its own gcomm UUID. */
static const char *const member_uuid[3] = {
        "a1a1a1a1-e9bb-11f1-8000-000000000001",
        "a2a2a2a2-e9bb-11f1-8000-000000000002",
        "a3a3a3a3-e9bb-11f1-8000-000000000003",
};

static void group_whole(gp_probe_t *g, const gp_probe_t **pp, bool *up)
{
	for (size_t i = 0; i < 3; i++) {
		probe_synced(&g[i]);
		ck_assert(gp_probe_set_var(&g[i], "WSREP_GCOMM_UUID", member_uuid[i]));
		pp[i] = &g[i];
		up[i] = true;
	}
}

/* A whole group: every backend up, Synced, Primary, one component of n, distinct UUIDs. */
START_TEST(test_group_whole)
{
	static const struct {
		const char *what; /* the change to node 1 of a whole group */
		bool whole;       /* gp_galera_group_whole */
	} t[] = {
	        {"none", true},           {"down", false}, /* a backend is not back */
	        {"failed", false},                         /* its last probe failed */
	        {"joined", false},                         /* not Synced yet (IST) */
	        {"non_primary", false},                    /* in a minority */
	        {"size2", false},                          /* the component lacks a member */
	        {"size4", false},                          /* a member the proxy does not know */
	        {"dup_uuid", false},                       /* two backends claim one UUID */
	        {"no_uuid", false},                        /* wsrep_gcomm_uuid not reported */
	        {"other_cluster", false}, {"not_ready", false},
	};
	gp_probe_t g[3];
	const gp_probe_t *pp[3];
	bool up[3];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const char *w = t[i].what;
		group_whole(g, pp, up);
		if (!strcmp(w, "down"))
			up[1] = false;
		else if (!strcmp(w, "failed"))
			g[1].ok = false;
		else if (!strcmp(w, "joined"))
			g[1].local_state = 3;
		else if (!strcmp(w, "non_primary"))
			g[1].cluster_status = GP_CLUSTER_NON_PRIMARY;
		else if (!strcmp(w, "size2"))
			g[1].cluster_size = 2;
		else if (!strcmp(w, "size4"))
			g[1].cluster_size = 4;
		else if (!strcmp(w, "dup_uuid"))
			snprintf(g[1].gcomm_uuid, GP_UUID_MAX, "%s", member_uuid[0]);
		else if (!strcmp(w, "no_uuid"))
			g[1].gcomm_uuid[0] = '\0';
		else if (!strcmp(w, "other_cluster"))
			snprintf(g[1].cluster_state_uuid, GP_UUID_MAX, "%s",
			         "d5ab1cd4-e9a4-11f1-a0de-0314b14815b4");
		else if (!strcmp(w, "not_ready"))
			g[1].ready = false;
		ck_assert_msg(gp_galera_group_whole(pp, up, 3) == t[i].whole, "case %s", w);
	}
	group_whole(g, pp, up);
	ck_assert(!gp_galera_group_whole(pp, up, 0));
	ck_assert(!gp_galera_group_whole(pp, up, 2)); /* cluster_size 3 != 2 backends */
}
END_TEST

/*
 * Entries left by another proxy, or by this one before a restart: cleared once the group is
 * whole and none of its members goes by that UUID; kept while one could be a member.
 */
START_TEST(test_evict_list_stale_group)
{
	static const char dead[1][GP_UUID_MAX] = {"f0eb00fa-e9bb-11f1-ae18-82916018b41f"};
	static const struct {
		const char *list; /* wsrep_evs_evict_list */
		bool whole;       /* pass the whole group */
		size_t n_dead;    /* how many of dead[] the proxy knows */
		bool stale;       /* gp_galera_evict_list_stale */
	} t[] = {
	        /* four old incarnations, evicted by earlier proxies: the case */
	        {"b0000000-e9bb-11f1-8000-000000000001,b0000000-e9bb-11f1-8000-000000000002,"
	         "b0000000-e9bb-11f1-8000-000000000003,b0000000-e9bb-11f1-8000-000000000004",
	         true, 0, true},
	        {"b0000000-e9bb-11f1-8000-000000000001,b0000000-e9bb-11f1-8000-000000000002,"
	         "b0000000-e9bb-11f1-8000-000000000003,b0000000-e9bb-11f1-8000-000000000004",
	         false, 0, false}, /* a backend not back (could be one of them, alive) */
	        {"a2a2a2a2-e9bb-11f1-8000-000000000002", true, 0, false}, /* a member's UUID */
	        {"b0000000-e9bb-11f1-8000-000000000001,a3a3a3a3-e9bb-11f1-8000-000000000003", true,
	         0, false},
	        {"f0eb00fa-e9bb-11f1-ae18-82916018b41f", false, 1, true}, /* evicted here */
	        {"f0eb00fa-e9bb-11f1-ae18-82916018b41f,b0000000-e9bb-11f1-8000-000000000001", true,
	         1, true}, /* one by each proof */
	        {"f0eb00fa-e9bb-11f1-ae18-82916018b41f,b0000000-e9bb-11f1-8000-000000000001", false,
	         1, false},
	        {"b0000000-e9bb-11f1-8000-000000000001,garbage", true, 0, false},
	        {"b0000000-e9bb-11f1-8000-000000000001,b0000000-e9bb-11f1-8000-000000000001,"
	         "b0000000-e9bb-11f1-8000-000000000001,b0000000-e9bb-11f1-8000-000000000001,"
	         "b0000000-e9bb-11f1-8000-000000000001,b0000000-e9bb-11f1-8000-000000000001,"
	         "b0000000-e9bb-11f1-8000-000000000001,b0000000-e9bb-11f1-8000-000000000001,"
	         "b0000000-e9bb-11f1-8000-000000000001",
	         true, 0, false}, /* more than the probe keeps: unknown entries */
	};
	gp_probe_t g[3];
	const gp_probe_t *pp[3];
	bool up[3];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		group_whole(g, pp, up);
		ck_assert(gp_probe_set_var(&g[0], "WSREP_EVS_EVICT_LIST", t[i].list));
		ck_assert_msg(gp_galera_evict_list_stale(&g[0], dead, t[i].n_dead,
		                                         t[i].whole ? pp : NULL, 3) == t[i].stale,
		              "case %zu", i);
	}
}
END_TEST
