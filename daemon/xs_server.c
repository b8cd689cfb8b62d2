/* The xenstore service as a whole: its tree, persistence and layout. */
#include "daemon/xs_core.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"

/* What every Xen host has; created when missing, never overwritten. */
static const struct {
	const char *path, *value;
} layout[] = {
	{ "@introduceDomain", "" },
	{ "@releaseDomain", "" },
	{ "/local", "" },
	{ "/local/domain", "" },
	{ "/local/domain/0", "" },
	{ "/local/domain/0/name", "Domain-0" },
	{ "/local/domain/0/domid", "0" },
	{ "/local/domain/0/backend", "" },
	{ "/vm", "" },
	{ "/tool", "" },
};

static int seed(struct xs_server *srv)
{
	/* Owned by dom0, nobody else may look. */
	const struct xs_perm dom0_only = { 0, XS_PERM_NONE };

	for (size_t i = 0; i < sizeof(layout) / sizeof(layout[0]); i++) {
		int err;

		if (xs_store_get(srv->db.store, layout[i].path))
			continue;
		err = xs_db_put(&srv->db, layout[i].path, layout[i].value,
				(uint32_t)strlen(layout[i].value), &dom0_only,
				1);
		if (err)
			return err;
	}
	xs_persist_commit(srv->db.persist);
	return xs_persist_flush(srv->db.persist) ? EIO : 0;
}

struct xs_server *xs_server_new(const struct xs_quota *quota,
				const char *state_dir, char *err,
				size_t errlen)
{
	struct xs_server *srv = calloc(1, sizeof(*srv));
	int e;

	if (!srv || !(srv->db.store = xs_store_new())) {
		snprintf(err, errlen, "out of memory");
		free(srv);
		return NULL;
	}
	srv->quota = *quota;
	xs_watch_index_init(&srv->watches);
	xs_dwatches_init(&srv->dwatches);
	if (state_dir) {
		srv->db.persist = xs_persist_open(state_dir, srv->db.store,
						  &srv->dwatches, err, errlen);
		if (!srv->db.persist)
			goto fail;
	}
	if ((e = seed(srv)) != 0) {
		snprintf(err, errlen, "cannot create the initial xenstore "
			 "layout: %s", strerror(e));
		goto fail;
	}
	log_info("xenstore: %zu nodes%s%s", xs_store_count(srv->db.store),
		 state_dir ? " in " : " (not persistent)",
		 state_dir ? state_dir : "");
	return srv;
fail:
	xs_server_free(srv);
	return NULL;
}

void xs_server_free(struct xs_server *srv)
{
	if (!srv)
		return;
	while (srv->conns)
		xs_conn_free(srv->conns);
	xs_persist_close(srv->db.persist);
	xs_store_free(srv->db.store);
	xs_watch_index_destroy(&srv->watches);
	xs_dwatches_clear(&srv->dwatches);
	free(srv->targets);
	free(srv);
}

int xs_server_flush(struct xs_server *srv)
{
	return xs_persist_flush(srv->db.persist);
}

void xs_server_tick(struct xs_server *srv)
{
	xs_persist_flush(srv->db.persist);
	xs_persist_sync(srv->db.persist);
	if (xs_persist_want_compact(srv->db.persist))
		xs_server_compact(srv);
}

int xs_server_compact(struct xs_server *srv)
{
	if (!srv->db.persist)
		return 0;
	return xs_persist_compact(srv->db.persist);
}

void xs_server_set_compact_bytes(struct xs_server *srv, size_t bytes)
{
	xs_persist_set_compact_bytes(srv->db.persist, bytes);
}
