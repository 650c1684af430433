/* kill.c - recognise KILL statements aimed at proxy connection ids (pure, no I/O). */
#include "kill.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static size_t kill_skip_space(const char *s, size_t n, size_t i)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	return i;
}

/* Match a keyword followed by whitespace; returns the index after it or 0. */
static size_t kill_word(const char *s, size_t n, size_t i, const char *word)
{
	size_t w = strlen(word);
	if (i + w >= n || strncasecmp(s + i, word, w) != 0)
		return 0;
	char c = s[i + w];
	if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
		return 0;
	return kill_skip_space(s, n, i + w);
}

bool gp_kill_parse(const char *sql, size_t n, gp_kill_t *out)
{
	memset(out, 0, sizeof(*out));
	out->hardsoft = "";
	size_t i = kill_skip_space(sql, n, 0), j;
	if (!(j = kill_word(sql, n, i, "KILL")))
		return false;
	i = j;
	if ((j = kill_word(sql, n, i, "HARD"))) {
		out->hardsoft = "HARD";
		i = j;
	} else if ((j = kill_word(sql, n, i, "SOFT"))) {
		out->hardsoft = "SOFT";
		i = j;
	}
	if ((j = kill_word(sql, n, i, "CONNECTION"))) {
		i = j;
	} else if ((j = kill_word(sql, n, i, "QUERY"))) {
		out->query = true;
		i = j;
	}
	size_t start = i;
	uint64_t id = 0;
	while (i < n && sql[i] >= '0' && sql[i] <= '9') {
		if (i - start >= 19)
			return false;
		id = id * 10 + (uint64_t)(sql[i] - '0');
		i++;
	}
	if (i == start)
		return false;
	size_t end = i;
	i = kill_skip_space(sql, n, i);
	if (i < n && sql[i] == ';')
		i = kill_skip_space(sql, n, i + 1);
	if (i != n)
		return false;
	out->id = id;
	out->id_off = start;
	out->id_len = end - start;
	return true;
}

bool gp_kill_rewrite(char *sql, const gp_kill_t *k, uint64_t id)
{
	char digits[24];
	int w = snprintf(digits, sizeof(digits), "%llu", (unsigned long long)id);
	if (w < 0 || (size_t)w > k->id_len)
		return false;
	memcpy(sql + k->id_off, digits, (size_t)w);
	memset(sql + k->id_off + (size_t)w, ' ', k->id_len - (size_t)w);
	return true;
}
