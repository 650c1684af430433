/* zclient.c - a compressed-protocol client built on myp_compress, run against a real MariaDB. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <nettle/sha1.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "codec/myp.h"
#include "codec/myp_compress.h"

/*
 * Usage: zclient PORT (user app/app on 127.0.0.1, as test/lib/mariadb.sh creates it; the
 * server's max_allowed_packet must allow 20 MB). Logs in with CLIENT_COMPRESS, then only
 * speaks through myp_zout_frame and myp_zin_*: what the server accepts proves our frames,
 * what we read back proves the inflater on the server's own frames. Checked:
 *  - a 20 MB row (SELECT REPEAT) arrives in several deflated frames, spanning packets;
 *  - a 17 MB query goes out as two packets in two frames and the server measures it;
 *  - short commands go stored, long ones deflated, and both are understood;
 *  - the compressed sequence ids: ours restart at 0 per command, the server's continue
 *    from our last one; the packet ids inside are reported.
 * Exits 0 when all holds, 1 with a message otherwise.
 */

static int fd = -1;
static myp_zin_t zin;
static myp_zout_t zout;
static uint8_t zseq;         /* the compressed sequence counter of this command */
static uint8_t *raw, *plain; /* socket bytes; inflated bytes */
static size_t raw_len, plain_start, plain_end;
static size_t raw_cap = 1u << 20, plain_cap = 64u << 20;
static int frames_in, deflated_in, frames_out, deflated_out, stored_out;

static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "zclient: FAIL: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static void send_all(const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t k = send(fd, p, n, MSG_NOSIGNAL);

		if (k <= 0)
			fail("send failed");
		p += k;
		n -= (size_t)k;
	}
}

/* Read at least one more byte from the socket into raw. */
static void recv_more(void)
{
	ssize_t k;

	if (raw_len == raw_cap)
		fail("raw buffer full");
	k = recv(fd, raw + raw_len, raw_cap - raw_len, 0);
	if (k <= 0)
		fail("server closed the connection");
	raw_len += (size_t)k;
}

static void raw_consume(size_t n)
{
	memmove(raw, raw + n, raw_len - n);
	raw_len -= n;
}

/* ---- plain phase (login) -------------------------------------------------------------- */

static size_t read_plain_packet(uint8_t *out, size_t cap, uint8_t *seq)
{
	myp_frame_t f;

	while (myp_frame_packet(raw, raw_len, &f) == MYP_NEED_MORE)
		recv_more();
	if (f.len > cap)
		fail("login packet too long");
	memcpy(out, f.payload, f.len);
	*seq = f.seq;
	raw_consume(MYP_HEADER_LEN + f.len);
	return f.len;
}

static void native_password(const char *pw, const uint8_t *scr, size_t slen, uint8_t out[20])
{
	struct sha1_ctx c;
	uint8_t h1[20], h2[20], h3[20];

	sha1_init(&c);
	sha1_update(&c, strlen(pw), (const uint8_t *)pw);
	sha1_digest(&c, 20, h1);
	sha1_update(&c, 20, h1);
	sha1_digest(&c, 20, h2);
	sha1_update(&c, slen, scr);
	sha1_update(&c, 20, h2);
	sha1_digest(&c, 20, h3);
	for (int i = 0; i < 20; i++)
		out[i] = h1[i] ^ h3[i];
}

static void login(void)
{
	uint8_t p[1024], auth[20], buf[1024];
	myp_greeting_t g;
	myp_hsresp_t r = {0};
	myp_wbuf_t w;
	uint8_t seq;
	size_t n = read_plain_packet(p, sizeof p, &seq);

	if (myp_greeting_parse(p, n, &g) != MYP_OK)
		fail("greeting does not parse");
	if (!(g.caps & MYP_CLIENT_COMPRESS))
		fail("server does not offer CLIENT_COMPRESS");
	native_password("app", g.scramble, 20, auth);
	r.caps = MYP_CLIENT_LONG_PASSWORD | MYP_CLIENT_PROTOCOL_41 | MYP_CLIENT_SECURE_CONNECTION |
	         MYP_CLIENT_PLUGIN_AUTH | MYP_CLIENT_COMPRESS | MYP_CLIENT_TRANSACTIONS |
	         MYP_CLIENT_MULTI_RESULTS;
	r.max_packet = 1u << 30;
	r.charset = 45; /* utf8mb4_general_ci */
	r.user = (const uint8_t *)"app";
	r.user_len = 3;
	r.auth = auth;
	r.auth_len = sizeof auth;
	r.auth_plugin = (const uint8_t *)"mysql_native_password";
	r.auth_plugin_len = strlen("mysql_native_password");
	myp_wbuf_init(&w, buf, sizeof buf);
	myp_hsresp_build(&w, (uint8_t)(seq + 1), &r);
	if (w.failed)
		fail("handshake response does not fit");
	send_all(buf, w.len);
	/* The answer to the login is still plain: both sides switch after it. */
	n = read_plain_packet(p, sizeof p, &seq);
	if (n == 0 || p[0] != 0x00)
		fail("login refused (first byte 0x%02x)", n ? p[0] : 0);
}

/* ---- compressed phase ----------------------------------------------------------------- */

/* Inflate the next frame from the socket into plain; checks its sequence id. */
static void read_frame(void)
{
	myp_zframe_t f;
	size_t need, used, made;
	myp_status_t st;

	while (myp_zframe_header(raw, raw_len, &f, &need) == MYP_NEED_MORE)
		recv_more();
	raw_consume(MYP_ZHEADER_LEN);
	if (f.seq != zseq)
		fail("server frame has sequence id %u, expected %u", f.seq, zseq);
	zseq++;
	frames_in++;
	deflated_in += f.ulen != 0;
	if (myp_zin_begin(&zin, &f, MYP_ZMAX_LEN) != MYP_OK)
		fail("frame refused: %s", zin.err);
	if (plain_cap - plain_end < myp_zframe_plain_len(&f)) {
		memmove(plain, plain + plain_start, plain_end - plain_start);
		plain_end -= plain_start;
		plain_start = 0;
	}
	do {
		if (raw_len == 0)
			recv_more();
		/* small output rooms: the inflate is driven chunk by chunk */
		st = myp_zin_feed(&zin, raw, raw_len, &used, plain + plain_end,
		                  plain_cap - plain_end < 65536 ? plain_cap - plain_end : 65536,
		                  &made);
		raw_consume(used);
		plain_end += made;
	} while (st == MYP_NEED_MORE);
	if (st != MYP_OK)
		fail("server frame does not inflate: %s", zin.err);
}

/* The next whole packet's payload from the inflated stream. */
static const uint8_t *next_packet(uint32_t *len, uint8_t *seq)
{
	myp_frame_t f;
	const uint8_t *p;

	while (myp_frame_packet(plain + plain_start, plain_end - plain_start, &f) == MYP_NEED_MORE)
		read_frame();
	p = f.payload;
	*len = f.len;
	*seq = f.seq;
	plain_start += MYP_HEADER_LEN + f.len;
	return p;
}

/* Send one command (split into 16 MB packets) in frames of at most MYP_ZMAX_LEN. */
static void send_command(const uint8_t *payload, size_t n)
{
	size_t packets = n / MYP_MAX_PAYLOAD + 1, run_len = n + packets * MYP_HEADER_LEN;
	uint8_t *run = malloc(run_len), *frame = malloc(myp_zframe_bound(run_len));
	size_t off = 0, w = 0;

	if (!run || !frame)
		fail("out of memory");
	for (size_t i = 0; i < packets; i++) {
		size_t k = n - off < MYP_MAX_PAYLOAD ? n - off : MYP_MAX_PAYLOAD;

		myp_frame_put_header(run + w, (uint32_t)k, (uint8_t)i);
		memcpy(run + w + MYP_HEADER_LEN, payload + off, k);
		w += MYP_HEADER_LEN + k;
		off += k;
	}
	if (plain_start == plain_end)
		plain_start = plain_end = 0;
	zseq = 0; /* a new command */
	for (off = 0; off < run_len;) {
		size_t used, len;

		if (myp_zout_frame(&zout, run + off, run_len - off, zseq++, frame,
		                   myp_zframe_bound(run_len - off), &used, &len) != MYP_OK)
			fail("cannot build a frame: %s", zout.err ? zout.err : "overflow");
		frames_out++;
		if (frame[4] | frame[5] | frame[6])
			deflated_out++;
		else
			stored_out++;
		send_all(frame, len);
		off += used;
	}
	free(run);
	free(frame);
}

/* Run a query; returns the first column of its one row (malloc'd), checks the rest. */
static uint8_t *query_one(const char *sql, size_t sql_len, uint64_t *val_len, uint8_t *first_seq)
{
	uint8_t *cmd = malloc(1 + sql_len), *val, seq;
	uint64_t ncols, vlen;
	size_t used, have = 0;
	const uint8_t *p;
	uint32_t len;
	bool is_null;

	cmd[0] = MYP_COM_QUERY;
	memcpy(cmd + 1, sql, sql_len);
	send_command(cmd, 1 + sql_len);
	free(cmd);
	p = next_packet(&len, first_seq);
	if (len > 0 && p[0] == 0xFF)
		fail("query failed: %.*s", (int)(len > 9 ? len - 9 : 0), p + 9);
	if (myp_lenenc_int(p, len, &ncols, &used, NULL) != MYP_OK || ncols != 1)
		fail("expected one column");
	(void)next_packet(&len, &seq); /* column definition */
	p = next_packet(&len, &seq);
	if (!(len < 9 && p[0] == 0xFE))
		fail("expected EOF after the column");
	/* the row: one lenenc string, over as many packets as it takes */
	p = next_packet(&len, &seq);
	if (myp_lenenc_int(p, len, &vlen, &used, &is_null) != MYP_OK || is_null)
		fail("row does not parse (NULL: raise max_allowed_packet)");
	val = malloc(vlen + 1);
	if (!val)
		fail("out of memory");
	have = len - used < vlen ? len - used : vlen;
	memcpy(val, p + used, have);
	while (len == MYP_MAX_PAYLOAD) {
		p = next_packet(&len, &seq);
		if (have + len > vlen)
			fail("row longer than its length says");
		memcpy(val + have, p, len);
		have += len;
	}
	if (have != vlen)
		fail("row has %zu of %llu bytes", have, (unsigned long long)vlen);
	p = next_packet(&len, &seq);
	if (!(len < 9 && p[0] == 0xFE))
		fail("expected EOF after the row");
	if (plain_start != plain_end)
		fail("bytes after the result");
	*val_len = vlen;
	return val;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	const size_t big = 20000000, q = 17000000;
	uint64_t vlen;
	uint8_t *v, seq;
	char *sql;
	int f0, d0, s0;

	if (argc != 2)
		fail("usage: zclient PORT");
	a.sin_port = htons((uint16_t)atoi(argv[1]));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	raw = malloc(raw_cap);
	plain = malloc(plain_cap);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (!raw || !plain || fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
		fail("cannot connect to 127.0.0.1:%s", argv[1]);
	if (myp_zin_init(&zin) != MYP_OK || myp_zout_init(&zout, Z_DEFAULT_COMPRESSION) != MYP_OK)
		fail("zlib init");
	login();

	/* a short command: stored both ways */
	v = query_one("SELECT 42", 9, &vlen, &seq);
	if (vlen != 2 || memcmp(v, "42", 2) != 0)
		fail("SELECT 42 gave %.*s", (int)vlen, v);
	free(v);
	if (stored_out != 1 || frames_out != 1)
		fail("SELECT 42 went out in %d frames, %d stored", frames_out, stored_out);
	printf("SELECT 42: ok, answer in %d frame(s), first packet id %u\n", frames_in, seq);

	/* a 20 MB row: deflated frames, a packet spanning them */
	f0 = frames_in;
	d0 = deflated_in;
	v = query_one("SELECT REPEAT('x', 20000000)", 28, &vlen, &seq);
	if (vlen != big)
		fail("row is %llu bytes", (unsigned long long)vlen);
	for (size_t i = 0; i < big; i++)
		if (v[i] != 'x')
			fail("row byte %zu is 0x%02x", i, v[i]);
	free(v);
	if (frames_in - f0 < 2 || deflated_in - d0 < 1)
		fail("20 MB row came in %d frames, %d deflated", frames_in - f0, deflated_in - d0);
	printf("20 MB row: ok, %d frames (%d deflated)\n", frames_in - f0, deflated_in - d0);

	/* a 17 MB query: two packets, two frames, deflated (text) */
	sql = malloc(q + 64);
	f0 = frames_out;
	d0 = deflated_out;
	s0 = stored_out;
	{
		int n = sprintf(sql, "SELECT LENGTH('");
		size_t len;

		for (size_t i = 0; i < q; i++)
			sql[n + i] = (char)('a' + (i * 7 + i / 4093) % 26);
		len = (size_t)n + q;
		len += (size_t)sprintf(sql + len, "')");
		v = query_one(sql, len, &vlen, &seq);
	}
	free(sql);
	if (vlen != 8 || memcmp(v, "17000000", 8) != 0)
		fail("LENGTH gave %.*s", (int)vlen, v);
	free(v);
	if (frames_out - f0 != 2 || deflated_out - d0 != 2 || stored_out != s0)
		fail("17 MB query went out in %d frames (%d deflated)", frames_out - f0,
		     deflated_out - d0);
	printf("17 MB query: ok, sent in %d deflated frames; answer's first packet id %u\n",
	       frames_out - f0, seq);

	{
		uint8_t quit = MYP_COM_QUIT;

		send_command(&quit, 1);
	}
	printf("frames in %d (%d deflated), out %d (%d deflated, %d stored)\n", frames_in,
	       deflated_in, frames_out, deflated_out, stored_out);
	myp_zin_end(&zin);
	myp_zout_end(&zout);
	close(fd);
	free(raw);
	free(plain);
	return 0;
}
