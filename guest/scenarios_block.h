/* Helpers shared by the block scenarios (scenarios_block*.c). */
#ifndef GUEST_SCENARIOS_BLOCK_H
#define GUEST_SCENARIOS_BLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "guest/virtio_blk.h"

/* A decimal key=value from the command line, or def. */
uint64_t blk_arg(const char *key, uint64_t def);
/* Open disk=N with up to queues=Q queues and print what it is; on
 * failure prints the failed result line and returns false. */
bool blk_open_arg(struct vblk *b);

#endif
