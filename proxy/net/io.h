/* io.h - the one I/O engine: every socket, its read buffer, packet framing, relaying to a peer. */
#ifndef GP_IO_H
#define GP_IO_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <uv.h>

#include "base/status.h"

/*
 * Every connection, client or backend, is a gp_io_t. The engine reads into a pooled
 * buffer, frames MySQL packets and hands each one to the side's packet callback,
 * which says what to do with it. FORWARD packets are relayed to the peer straight
 * from the read buffer: contiguous runs go out in one write, with uv_try_write first
 * so the common case costs one system call and no queued request. While a write to
 * the peer is queued, this side stops reading (backpressure: one buffer per direction
 * is the bound). Large payloads stream through: callbacks see only the first
 * `peek` bytes (or the whole packet in whole mode, used for the handshake).
 *
 * Small reads are not scanned in the read callback but once libuv has done all the reads
 * of its poll phase (a uv_check_t): every socket that epoll reported is read before the
 * first relayed write wakes up a server thread or a client that then competes for the CPU,
 * so the proxy is preempted less and handles more events per wakeup.
 *
 * The engine owns every socket of the daemon: accept, connect, adopting a descriptor, taking
 * one over from another io, peeking at the kernel's queue, reading, writing, closing. Nothing
 * else calls libuv's stream functions or recv/send (test/check-layers.sh checks it). HTTP
 * connections use it in byte-stream mode (proto->data): reads are handed over unframed.
 */

typedef struct gp_io gp_io_t;
struct gp_tls_ctx;  /* net/tls.h */
struct gp_tls_conn; /* net/tls.h */

typedef enum gp_pkt_action {
	GP_PKT_FORWARD, /* relay the packet to the peer */
	GP_PKT_DROP,    /* consume it, relay nothing */
	GP_PKT_HOLD,    /* leave it unread; scanning resumes with gp_io_resume() */
	GP_PKT_STOP     /* the callback closed or re-moded the io: stop scanning now */
} gp_pkt_action_t;

typedef struct gp_pkt {
	uint32_t len; /* full payload length (a FORWARD callback may lower it for a whole packet
	               * it rewrote shorter in place, header included: the rest is dropped) */
	uint8_t seq;  /* sequence id (a FORWARD relays what the callback leaves here) */
	uint8_t *p;   /* first bytes of the payload (patchable in place) */
	uint32_t n;   /* bytes available at p: min(len, peek), or len in whole mode */
} gp_pkt_t;

typedef struct gp_io_proto {
	/* One complete header (+ prefix) arrived. */
	gp_pkt_action_t (*packet)(gp_io_t *io, gp_pkt_t *pkt);
	/* The socket ended: GP_ECLOSED for EOF/reset, else the error. Called once. */
	void (*ended)(gp_io_t *io, gp_status_t st);
	/* A close requested with gp_io_close finished; the io may be freed now. */
	void (*closed)(gp_io_t *io);
	/* Optional: a scan ended and what it forwarded has been handed to the peer.
	 * Work that must follow the relayed bytes (closing, our own packets) goes here. */
	void (*scanned)(gp_io_t *io);
	/* Optional: gp_io_connect finished (GP_OK or the error). Not called once the io is
	 * closing (gp_io_close cancels the connect). */
	void (*connected)(gp_io_t *io, gp_status_t st);
	/* Byte-stream mode (HTTP): when set, reads are handed over as they come, unframed,
	 * and packet/scanned are not used. The bytes are valid during the call only. */
	void (*data)(gp_io_t *io, const char *p, size_t n);
	/* Optional: one gp_io_send(v) of len bytes has been written (or failed: ended follows). */
	void (*sent)(gp_io_t *io, size_t len);
	/* Optional: the TLS handshake gp_io_start_tls(_stream) began finished (GP_OK; data follows)
	 * or failed (GP_EPROTO: gp_tls_reason of gp_io_tls_conn says why; the io is not
	 * ended, the callee closes it). */
	void (*tls_ready)(gp_io_t *io, gp_status_t st);
} gp_io_proto_t;

struct gp_io {
	uv_tcp_t tcp;               /* the socket (tcp.data == this) */
	const gp_io_proto_t *proto; /* this side's callbacks */
	void *owner;                /* the session, parked entry or HTTP connection */
	gp_io_t *peer;              /* where FORWARD packets go (NULL: nowhere yet) */
	uint8_t *buf;               /* pooled read buffer, NULL while idle */
	uint32_t start;             /* first byte not yet scanned */
	uint32_t end;               /* end of data read */
	uint32_t skip;              /* bytes of the current payload still streaming through */
	uint32_t peek;              /* prefix bytes callbacks need (whole mode: all) */
	uint32_t pending;           /* our writes queued on the peer's socket */
	uint32_t own_pending;       /* writes of our own (gp_io_send) queued on this socket */
	uint32_t dirty;             /* wipe: buf[0, dirty) held bytes read since its last wipe */
	gp_io_t *scan_next;         /* next io in the deferred-scan queue */
	uint64_t *total_in;         /* bytes read from the socket add up here (NULL: nowhere) */
	uint64_t *total_out;        /* ...and bytes written to it */
	bool skip_drop;             /* the streaming bytes are dropped, not relayed */
	bool whole;                 /* callbacks need whole packets */
	bool want_read;             /* the session wants this side read */
	bool reading;               /* uv_read_start is in effect */
	bool held;                  /* a callback returned HOLD */
	bool ended;                 /* EOF/error seen, ended() called */
	bool closing;               /* gp_io_close called */
	bool close_after_write;     /* close once our queued writes are done */
	bool connected;             /* tcp is open (accepted or connected) */
	bool scan_queued;           /* read data waits for the end of the poll phase */
	bool tls_carry;             /* TLS began in this scan: what follows is ciphertext */
	bool wipe;                  /* what it reads may hold secrets: wiped before buf goes */
	struct gp_zio *z;           /* the compressed protocol's layer (NULL: plain) */
	struct gp_tls_conn *t;      /* TLS under everything else (NULL: clear text) */
};

/* Prepare an io on the loop (uv_tcp_init). */
GP_WUR gp_status_t gp_io_init(gp_io_t *io, uv_loop_t *loop, const gp_io_proto_t *proto,
                              void *owner);
/* Take listener's pending connection into io (in a connection callback, status 0). */
GP_WUR gp_status_t gp_io_accept(gp_io_t *io, uv_stream_t *listener);
/* The same for a bare handle (uv_tcp_init'ed on listener's loop): the refuser's. */
GP_WUR gp_status_t gp_io_accept_tcp(uv_tcp_t *tcp, uv_stream_t *listener);
/* Connect to addr; proto->connected reports the outcome. An error returned here means
 * no connect is under way (and connected will not be called). */
GP_WUR gp_status_t gp_io_connect(gp_io_t *io, const struct sockaddr *addr);
/* Make the connected socket fd io's socket. io owns fd from here: on failure it is closed. */
GP_WUR gp_status_t gp_io_adopt(gp_io_t *io, int fd);
/* A duplicate of from's descriptor (the caller owns it), or -1. */
int gp_io_dup(const gp_io_t *from);
/* Take over from's socket: io gets a duplicate of its descriptor (from is closed apart). */
GP_WUR gp_status_t gp_io_take(gp_io_t *io, const gp_io_t *from);
/* Nothing waits to be read: no buffered bytes, no end seen, and the socket holds neither a
 * byte nor a FIN the loop has not read yet (a peek at the kernel's queue). */
bool gp_io_quiet(const gp_io_t *io);
/* The bytes read and not yet scanned (*n of them; NULL when none), e.g. a packet a
 * taker of the socket must act on. Valid until the loop runs again. */
const uint8_t *gp_io_unscanned(const gp_io_t *io, uint32_t *n);
/* Every byte written to io is in the kernel (libuv's write queue on it is empty). */
bool gp_io_flushed(const gp_io_t *io);
/* The socket's address (local == false: the peer's). */
GP_WUR gp_status_t gp_io_addr(const gp_io_t *io, bool local, struct sockaddr_storage *ss);
/* Set socket options after accept/connect: TCP_NODELAY, keepalive. */
void gp_io_tune(gp_io_t *io);
/* Start/stop wanting reads (backpressure and holds are layered on top). */
void gp_io_read(gp_io_t *io, bool on);
/* Callbacks want whole packets (true) or only MYP_RESP_PEEK-byte prefixes. */
void gp_io_set_whole(gp_io_t *io, bool whole);
/* What io reads may hold secrets (a client's: its login, COM_CHANGE_USER, SQL naming a
 * password): the bytes read into its buffer are wiped before the buffer goes back to the
 * pool or to malloc. Costs a memset of what was read, on a cache-hot buffer. */
void gp_io_set_wipe(gp_io_t *io);
/* Rescan after a HOLD. */
void gp_io_resume(gp_io_t *io);
/* Write bytes of our own to this socket (copied). */
GP_WUR gp_status_t gp_io_send(gp_io_t *io, const void *data, size_t len);
/* The same for n pieces, sent as one write (copied into one buffer). */
GP_WUR gp_status_t gp_io_sendv(gp_io_t *io, const struct iovec *v, size_t n);
/* Close the socket; proto->closed fires when done. With after_write, close once our
 * own queued sends have gone out (e.g. a final ERR packet). Idempotent. */
void gp_io_close(gp_io_t *io, bool after_write);
/* Switch the compressed protocol on, both ways, from the next byte read and the next byte
 * written (call it once the login OK is handed over plain). Reads are inflated before the
 * packet scan and writes, forwarded or our own, go out in frames. */
GP_WUR gp_status_t gp_io_start_compress(gp_io_t *io);
/* The compressed protocol is on. */
bool gp_io_compressed(const gp_io_t *io);
/* Switch TLS on (server role, on ctx), from the packet callback of the client's SSL request,
 * which then returns GP_PKT_STOP: every byte read after that packet is ciphertext, and so is
 * every byte written from here. The handshake runs inside the engine; proto->tls_ready
 * reports its outcome. Before compression (which then runs inside TLS). */
GP_WUR gp_status_t gp_io_start_tls(gp_io_t *io, struct gp_tls_ctx *ctx);
/* Switch TLS on as the CLIENT (the backend leg), after the SSL request was sent: the
 * ClientHello goes out now and every byte read or written from here is TLS. peer is the
 * name or address the certificate must show (ctx's verify mode). Callable anywhere, also
 * from this io's own packet callback provided nothing follows the packet being read. */
GP_WUR gp_status_t gp_io_connect_tls(gp_io_t *io, struct gp_tls_ctx *ctx, const char *peer);
/* Byte-stream mode (HTTPS): TLS from the first byte, right after accept (server role) or
 * connect (client role: its ClientHello is sent now; peer as for gp_tls_conn_new). Sends
 * before proto->tls_ready(GP_OK) fail. */
GP_WUR gp_status_t gp_io_start_tls_stream(gp_io_t *io, struct gp_tls_ctx *ctx, const char *peer);
/* TLS is on (the handshake may still be running). */
bool gp_io_tls(const gp_io_t *io);
/* The TLS connection (NULL: clear text), for its version and cipher. */
const struct gp_tls_conn *gp_io_tls_conn(const gp_io_t *io);
/* Bytes of buffered data not yet scanned (tests, shutdown decisions). */
uint32_t gp_io_buffered(const gp_io_t *io);

#endif
