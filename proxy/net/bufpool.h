/* bufpool.h - a free list of fixed-size read buffers, so idle connections hold none. */
#ifndef GP_BUFPOOL_H
#define GP_BUFPOOL_H

#include <stddef.h>
#include <stdint.h>

#define GP_BUF_SIZE (16 * 1024) /* one read buffer: fits any handshake packet we accept */

uint8_t *gp_bufpool_get(void); /* NULL when out of memory */
void gp_bufpool_put(uint8_t *buf);
void gp_bufpool_drain(void); /* free every pooled buffer (shutdown) */
size_t gp_bufpool_in_use(void);

#endif
