/* bufpool.c - a free list of fixed-size read buffers, so idle connections hold none. */
#include "net/bufpool.h"

#include <stdlib.h>

#define GP_BUFPOOL_KEEP 256 /* free buffers kept for reuse; more go back to malloc */

typedef union gp_buf_node {
	union gp_buf_node *next; /* free-list link, overlaid on the buffer */
	uint8_t bytes[GP_BUF_SIZE];
} gp_buf_node_t;

static gp_buf_node_t *free_list; /* buffers ready for reuse */
static size_t free_count;        /* length of free_list */
static size_t in_use;            /* buffers handed out */

uint8_t *gp_bufpool_get(void)
{
	gp_buf_node_t *n = free_list;
	if (n) {
		free_list = n->next;
		free_count--;
	} else {
		n = malloc(sizeof(*n));
		if (!n)
			return NULL;
	}
	in_use++;
	return n->bytes;
}

void gp_bufpool_put(uint8_t *buf)
{
	gp_buf_node_t *n = (gp_buf_node_t *)(void *)buf;
	in_use--;
	if (free_count >= GP_BUFPOOL_KEEP) {
		free(n);
		return;
	}
	n->next = free_list;
	free_list = n;
	free_count++;
}

void gp_bufpool_drain(void)
{
	while (free_list) {
		gp_buf_node_t *n = free_list;
		free_list = n->next;
		free(n);
	}
	free_count = 0;
}

size_t gp_bufpool_in_use(void)
{
	return in_use;
}
