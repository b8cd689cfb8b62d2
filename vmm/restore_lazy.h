/* `--verify-ram=lazy`: restored RAM paged in on demand (restore_lazy.c). */
#ifndef XENON_RESTORE_LAZY_H
#define XENON_RESTORE_LAZY_H

struct vm;
struct ram_image_info;
struct lazy_restore;

/* Register vm's (new, untouched) RAM and start paging it in from the
 * save file fd; sets vm->pager.  -1 if userfaultfd cannot be used. */
int lazy_restore_start(struct lazy_restore **out, struct vm *vm, int fd,
		       const char *path, const struct ram_image_info *ri);
void lazy_restore_destroy(struct lazy_restore *lr);

#endif
