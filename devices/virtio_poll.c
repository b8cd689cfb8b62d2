/* Polling a virtqueue after a kick (virtio_poll.h). */
#include "devices/virtio_poll.h"

#include "devices/virtio.h"
#include "vmm/vm.h"

#define SPINS_BETWEEN_LOOKS 32

static void adapt(struct virtio_poll *p, bool found)
{
	if (found)
		p->window_ns = p->window_ns ? p->window_ns * 2
					    : VIRTIO_POLL_START_NS;
	else
		p->window_ns /= 2;
	if (p->window_ns > VIRTIO_POLL_MAX_NS)
		p->window_ns = VIRTIO_POLL_MAX_NS;
	if (!found && p->window_ns < VIRTIO_POLL_START_NS / 2)
		p->window_ns = 0;
}

static bool keep_going(struct virtio_dev *vdev, unsigned q,
		       const struct virtio_poll_ops *ops, void *opaque)
{
	return virtio_queue_ready(vdev, q) && !(ops->stop && ops->stop(opaque));
}

/* One look: run if buffers wait, else idle.  True if there were some. */
static bool look(struct virtio_dev *vdev, unsigned q,
		 const struct virtio_poll_ops *ops, void *opaque)
{
	if (virtio_queue_has_buffers(vdev, q)) {
		ops->run(opaque);
		return true;
	}
	if (ops->idle)
		ops->idle(opaque);
	return false;
}

void virtio_poll_queue(struct virtio_dev *vdev, unsigned q,
		       struct virtio_poll *p, const struct virtio_poll_ops *ops,
		       void *opaque)
{
	uint64_t start = monotonic_ns(), now;
	uint64_t deadline = start + (p->window_ns ? p->window_ns
						  : VIRTIO_POLL_START_NS);
	bool found = false;

	virtio_queue_set_notify(vdev, q, false);
	while (keep_going(vdev, q, ops, opaque)) {
		if (look(vdev, q, ops, opaque)) {
			found = true;
			deadline = monotonic_ns() + VIRTIO_POLL_MAX_NS;
		}
		now = monotonic_ns();
		if (now > deadline || now - start > VIRTIO_POLL_BUDGET_NS)
			break;
		virtio_unlock(vdev);
		for (unsigned i = 0; i < SPINS_BETWEEN_LOOKS; i++)
			__builtin_ia32_pause();
		virtio_lock(vdev);
	}
	virtio_queue_set_notify(vdev, q, true);
	/* What was added while kicks were off brought no kick. */
	if (keep_going(vdev, q, ops, opaque) &&
	    virtio_queue_has_buffers(vdev, q))
		ops->run(opaque);
	adapt(p, found);
}
