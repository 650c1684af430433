/* test_codec_trans.c - the transaction state a response leaves (part of test_codec_resp.c). */

/* The transaction state after each scenario, given the state before its command. */
START_TEST(test_resp_trans)
{
#define N MYP_TRANS_NONE
#define O MYP_TRANS_OPEN
#define U MYP_TRANS_UNKNOWN
	static const struct {
		const char *scen;
		myp_trans_t before, want;
	} cases[] = {
	        /* what the final OK/EOF says, whatever was before */
	        {"begin", N, O},
	        {"begin", U, O},
	        {"commit", O, N},
	        {"commit", U, N},
	        {"select_in_trans", N, O},
	        {"ping_in_trans", U, O},
	        {"text_eof", O, N},
	        /* no status at all: nothing changed */
	        {"statistics", O, O},
	        {"statistics", U, U},
	        {"prepare_deof", O, O},
	        /* deadlock / certification failure: rolled back, known */
	        {"commit_deadlock", O, N},
	        {"commit_deadlock", U, N},
	        /* duplicate key: only the statement is undone */
	        {"dup_key", O, O},
	        {"multi_begin_dup", N, O}, /* the BEGIN's OK said open */
	        {"multi_begin_dup_deof", N, O},
	        /* outside a transaction it may have begun one (autocommit=0, a CALL) */
	        {"dup_key", N, U},
	        {"call_err", N, U},
	        {"multi_err", O, U}, /* the SELECT before the ERR said not in a transaction */
	        {"rows_err", O, O},  /* 1242 in the rows: a statement error, no status seen */
	        /* lock wait timeout: innodb_rollback_on_timeout decides, the ERR cannot tell */
	        {"lock_wait_timeout", O, U},
	        {"lock_wait_timeout", N, U},
	        /* a DDL statement commits before it fails */
	        {"ddl_err", O, U},
	        {"field_list_err", O, U}, /* 1146: an ALTER of a missing table committed first */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const scen_t *sc = NULL;
		myp_resp_event_t ev = MYP_RESP_CONTINUE;
		myp_resp_t r;

		for (int j = 0; j < NSCENS && !sc; j++)
			if (!strcmp(scens[j].name, cases[i].scen))
				sc = &scens[j];
		ck_assert_msg(sc, "no scenario %s", cases[i].scen);
		scen_begin(sc, &r);
		for (int j = 0; j < scen_npk(sc); j++)
			ev = scen_feed(sc, &r, j, MYP_RESP_PEEK, false);
		ck_assert_msg(ev == MYP_RESP_DONE, "%s did not end", sc->name);
		ck_assert_msg(myp_resp_trans(&r, cases[i].before) == cases[i].want,
		              "%s after %s: %s, want %s", sc->name, myp_trans_name(cases[i].before),
		              myp_trans_name(myp_resp_trans(&r, cases[i].before)),
		              myp_trans_name(cases[i].want));
	}
#undef N
#undef O
#undef U
}
END_TEST

START_TEST(test_err_trans)
{
	static const struct {
		uint16_t code;
		myp_err_trans_t want;
	} cases[] = {
	        {1213, MYP_ERR_TRANS_ROLLBACK},  {1062, MYP_ERR_TRANS_STATEMENT},
	        {1586, MYP_ERR_TRANS_STATEMENT}, {1048, MYP_ERR_TRANS_STATEMENT},
	        {1064, MYP_ERR_TRANS_STATEMENT}, {1452, MYP_ERR_TRANS_STATEMENT},
	        {1792, MYP_ERR_TRANS_STATEMENT}, {1205, MYP_ERR_TRANS_UNKNOWN},
	        {1050, MYP_ERR_TRANS_UNKNOWN},   {1180, MYP_ERR_TRANS_UNKNOWN},
	        {1047, MYP_ERR_TRANS_UNKNOWN},   {0xFFFF, MYP_ERR_TRANS_UNKNOWN},
	        {0, MYP_ERR_TRANS_UNKNOWN},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(myp_err_trans(cases[i].code) == cases[i].want, "code %u",
		              cases[i].code);
	ck_assert_str_eq(myp_trans_name(MYP_TRANS_NONE), "none");
	ck_assert_str_eq(myp_trans_name(MYP_TRANS_OPEN), "open");
	ck_assert_str_eq(myp_trans_name(MYP_TRANS_UNKNOWN), "unknown");
	ck_assert_str_eq(myp_trans_name((myp_trans_t)7), "unknown");
}
END_TEST
