/* close.c - the session close reasons' names, cut or not (close.h's table). */
#include "base/close.h"

static const struct {
	const char *name; /* the label */
	bool cut;         /* ended the session instead of waiting for an idle point */
} close_table[GP_CLOSE__COUNT] = {
#define GP_CLOSE_ROW(e, n, c) [e] = {n, c},
        GP_CLOSE_TABLE(GP_CLOSE_ROW)
#undef GP_CLOSE_ROW
};

const char *gp_close_name(gp_close_t r)
{
	return (unsigned)r < GP_CLOSE__COUNT ? close_table[r].name : "-";
}

bool gp_close_is_cut(gp_close_t r)
{
	return (unsigned)r < GP_CLOSE__COUNT && close_table[r].cut;
}
