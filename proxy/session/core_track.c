/* core_track.c - the core's side of session tracking: what OKs and queries tell state.c,
 * untracking. */
#include "codec/myp_track.h"
#include "session/core.h"

/*
 * The proxy asks every backend session for CLIENT_SESSION_TRACK when the server offers it
 * (core_hsresp, handoff.c's deferred build). A client that did not ask never sees it: every
 * OK (and OK-as-EOF) it would read is rebuilt by myp_ok_untrack, in place, shorter (pkt->len
 * lowered; io.c relays the shorter packet), a classic EOF loses SERVER_SESSION_STATE_CHANGED.
 * Responses end in an OK or EOF, so this runs about once per statement, not per row.
 */

bool gp_core_track_status(gp_core_t *c, gp_pkt_t *pkt, bool relayed)
{
	uint64_t caps = c->caps;
	bool whole = pkt->n == pkt->len;
	bool classic_eof = pkt->p[0] == 0xFE && !(caps & MYP_CLIENT_DEPRECATE_EOF);
	if (classic_eof) {
		myp_eof_t eof;
		if (myp_eof_parse(pkt->p, pkt->n, &eof) == MYP_OK &&
		    (eof.status & MYP_SERVER_SESSION_STATE_CHANGED) && gp_core_tracked(c))
			gp_sstate_unnamed_change(&c->st); /* reported by no block */
	} else {
		myp_ok_t ok;
		uint64_t pcaps = whole ? caps : caps & ~(uint64_t)MYP_CLIENT_SESSION_TRACK;
		if (myp_ok_parse(pkt->p, pkt->n, pcaps, &ok) != MYP_OK) {
			gp_sstate_unnamed_change(&c->st);
		} else {
			/* the server started the session afresh */
			if (c->resp.cmd == MYP_COM_CHANGE_USER && !c->resp.failed)
				gp_sstate_reset(&c->st);
			else if (c->resp.cmd == MYP_COM_RESET_CONNECTION && !c->resp.failed)
				gp_sstate_reset_connection(&c->st);
			gp_sstate_ok(&c->st, &ok, whole);
		}
	}
	if (!c->untrack || !relayed)
		return true;
	if (!whole)
		return false; /* longer than a read buffer: it cannot be rebuilt */
	size_t out;
	uint8_t *h = pkt->p - MYP_HEADER_LEN;
	if (myp_ok_untrack(h, MYP_HEADER_LEN + pkt->n, caps, h, MYP_HEADER_LEN + pkt->n, &out) !=
	    MYP_OK)
		return false;
	pkt->len = pkt->n = (uint32_t)(out - MYP_HEADER_LEN);
	return true;
}

void gp_core_track_command(gp_core_t *c, const gp_pkt_t *pkt)
{
	uint8_t cmd = pkt->p[0];
	if (!gp_core_tracked(c) || (cmd != MYP_COM_QUERY && cmd != MYP_COM_STMT_PREPARE))
		return;
	/* a prepared statement's text counts as if run: SELECT GET_LOCK(?, 0) */
	bool whole = pkt->n == pkt->len && pkt->len != MYP_MAX_PAYLOAD;
	gp_sstate_scan_query(&c->st, pkt->p + 1, pkt->n - 1, whole);
}
