/* core_learn.h - what a relayed native-password login shows the core: user, nonce, reply. */
#ifndef GP_CORE_LEARN_H
#define GP_CORE_LEARN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec/myp.h"

/*
 * Issue 17: during a relayed mysql_native_password exchange (the handshake response, an
 * AuthSwitchRequest and its answer, a COM_CHANGE_USER) the core keeps the nonce the reply
 * was computed for, the reply and the user, and says so when the server accepts the login
 * (gp_learn_ready). It checks nothing: whether the pair proves a password is decided against
 * the stored hash (gp_auth_native_learn), so a mis-paired nonce learns nothing. Any other
 * plugin's round (AuthMoreData, a switch to another plugin) makes the exchange unlearnable.
 * Pure: no I/O; an exchange's state is allocated when it starts and gp_learn_wipe clears
 * and frees it (the greeting's nonce stays).
 */

#define GP_LEARN_USER_MAX 384 /* User char(128) in utf8mb3: longer names learn nothing */

/* One exchange in flight: allocated when it starts, wiped and freed by gp_learn_wipe, so that
 * an idle session holds none of it (nor any reply). */
typedef struct gp_learn_ex {
	uint8_t nonce[MYP_NATIVE_AUTH_LEN]; /* nonce of the reply below */
	bool nonce_ok;                      /* nonce is known */
	uint8_t reply[MYP_NATIVE_AUTH_LEN]; /* the client's native reply */
	uint8_t reply_len;                  /* 20, or 0 for an empty password */
	bool reply_ok;                      /* reply answers nonce */
	bool native;                        /* the exchange is native-password so far */
	bool want_reply;                    /* a native switch went out: the next client packet
	                                     * answers it */
	char user[GP_LEARN_USER_MAX + 1];   /* the user logging in */
	bool user_ok;                       /* user is whole */
} gp_learn_ex_t;

typedef struct gp_core_learn {
	uint8_t greet_nonce[MYP_NATIVE_AUTH_LEN]; /* the connection's greeting nonce */
	bool greet_ok;                            /* greet_nonce is known */
	gp_learn_ex_t *ex;                        /* the exchange in flight; NULL: none (or no
	                                           * memory for one: nothing is learned) */
} gp_core_learn_t;

/* The backend's greeting: its nonce is the one a handshake response or COM_CHANGE_USER
 * answers. */
void gp_learn_greeting(gp_core_learn_t *l, const myp_greeting_t *g);
/* A relayed handshake response (deferred: it answered the proxy's own greeting, whose
 * nonce the server does not know; only a switch can be learned then). */
void gp_learn_hsresp(gp_core_learn_t *l, const myp_hsresp_t *r, bool deferred);
/* A COM_CHANGE_USER (payload p[0..n) of len bytes, caps the session's). */
void gp_learn_change_user(gp_core_learn_t *l, const uint8_t *p, size_t n, size_t len,
                          uint64_t caps);
/* A server packet of the exchange (not OK, not ERR), n of its len bytes. */
void gp_learn_server(gp_core_learn_t *l, const uint8_t *p, size_t n, size_t len);
/* A client packet of the exchange (n of its len bytes). */
void gp_learn_client(gp_core_learn_t *l, const uint8_t *p, size_t n, size_t len);
/* The server accepted the login: user, nonce and native reply are all known. */
bool gp_learn_ready(const gp_core_learn_t *l);
/* Forget the exchange, wiped and freed (the greeting's nonce stays for a COM_CHANGE_USER);
 * also what a session ending mid-login must call. */
void gp_learn_wipe(gp_core_learn_t *l);

#endif
