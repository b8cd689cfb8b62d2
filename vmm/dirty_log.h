/* Dirty-page tracking for live migration (see dirty_log.c). */
#ifndef XENON_DIRTY_LOG_H
#define XENON_DIRTY_LOG_H

#include <stdbool.h>
#include <stdint.h>

struct vm;

struct dirty_log {
	bool on;
	uint64_t words;            /* bitmap words for all RAM pages */
	_Atomic uint64_t *dev;     /* device writes (vm->mem.dirty) */
};

/* Start logging guest and device writes. */
int dirty_log_start(struct vm *vm, struct dirty_log *dl);
void dirty_log_stop(struct vm *vm, struct dirty_log *dl);
/* Pages written since the last fetch (or the start), as a bitmap over RAM
 * page indices in out (dl->words words); the log restarts empty. */
int dirty_log_fetch(struct vm *vm, struct dirty_log *dl, uint64_t *out,
		    uint64_t *count);

#endif
