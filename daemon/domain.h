/*
 * xenond's domain manager (Xen's xend role): domain IDs, names and UUIDs,
 * one xenon-vmm process per domain, Xen's xenstore layout, the
 * on_poweroff/on_reboot/on_crash actions, and a record of every domain in
 * the state directory so that a restarted xenond (also after kill -9)
 * finds its running domains again.
 *
 *   domain_manager.c   the table, lookups, create/destroy, exit actions
 *   domain_vmm.c       spawning xenon-vmm and talking to its control socket
 *   domain_store.c     /local/domain/<id>, /vm/<uuid>, backend paths
 *   domain_record.c    the per-domain record on disk, and recovery
 *   domain_stats.c     state flags and CPU time from /proc
 */
#ifndef XENON_DOMAIN_H
#define XENON_DOMAIN_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "daemon/event_loop.h"
#include "lib/domain_config.h"

struct xs_server;
struct xs_local;
struct console;
struct xs_domain_socket;

#define DOMAIN_NAME_MAX 64

enum domain_phase {
	DOMAIN_ACTIVE,      /* xenon-vmm runs (maybe paused) */
	DOMAIN_SHUTDOWN,    /* ended, kept by on_*=preserve until destroyed */
};

struct domain {
	struct domain_manager *mgr;
	unsigned domid;
	char name[DOMAIN_NAME_MAX];
	uint8_t uuid[16];
	struct domain_config dc;
	/* What the domain was created from, to re-create it on restart. */
	char *config_text, *config_source;
	json_t *overrides;          /* array of "KEY=VALUE" strings */
	char dir[512];              /* STATE/domains/<domid> */

	enum domain_phase phase;
	char shutdown_reason[16];   /* "poweroff", "reboot", "crash", ... */
	bool paused;
	double start_time;          /* wall clock seconds */
	pid_t pid;
	unsigned long long pid_start;  /* /proc/<pid>/stat starttime */
	int pidfd;
	bool is_child;              /* spawned by this xenond: reap it */
	bool saved;                 /* saved away: its exit is no shutdown */
	int incoming_fd;            /* migration socket for --incoming, or -1 */
	bool incoming;              /* still receiving a migration */
	struct ev_timer *ready_timer;
	const char *restore_file;   /* start from this save file */
	struct ev_fd *pid_ev;
	unsigned restarts;          /* consecutive quick restarts */
	double first_restart;

	struct console *console;
	struct xs_domain_socket *xs_chan;
	json_t *guest_nodes;        /* restored: its own store nodes, to write */
	unsigned guest_nodes_domid; /* the ID they were saved under */
	struct domain *next;
};

struct domain_manager_opts {
	const char *state_dir;      /* domain records under STATE/domains */
	const char *vmm_path;       /* xenon-vmm binary */
	const char *log_dir;        /* console/guest-NAME.log, vmm-NAME.log */
	const char *xenstore_socket;
	const char *relocation_key; /* key file for migration, or NULL */
	bool guest_xenstore;        /* give guests a xenstore channel */
};

struct domain_manager {
	struct domain_manager_opts opt;
	struct event_loop *loop;
	struct xs_server *xs;
	struct xs_local *xsl;
	struct domain *domains;     /* sorted by domid */
	unsigned next_domid;
};

/* Create the manager and recover every domain recorded in the state
 * directory.  NULL with a sentence in err on failure. */
struct domain_manager *domain_manager_new(struct event_loop *loop,
					  struct xs_server *xs,
					  const struct domain_manager_opts *o,
					  char *err, size_t errlen);
/* Forget the domains (they keep running) and free the manager. */
void domain_manager_free(struct domain_manager *m);

/* A name, or a decimal domain ID.  NULL if none matches. */
struct domain *domain_find(struct domain_manager *m, const char *which);
struct domain *domain_find_id(struct domain_manager *m, unsigned domid);
struct domain *domain_find_name(struct domain_manager *m, const char *name);

struct domain_create_req {
	const char *config_text, *config_source;
	const char *const *overrides;
	size_t n_overrides;
	const char *cwd;            /* relative kernel/ramdisk paths */
	bool paused;
};

/*
 * Create and start a domain.  Returns it, or NULL with a sentence in err
 * and an errno name in *errname.  Warnings from the config file are added
 * to warnings (a JSON array) when given.
 */
/* Restore a domain from a save file: the same name, UUID and (when
 * free) domain ID as when it was saved. */
struct domain *domain_restore(struct domain_manager *m, const char *path,
			      bool paused, char *err, size_t errlen,
			      const char **errname);

void domain_gone_saved(struct domain *d);
json_t *domain_portable_record(const struct domain *d);
void domain_import_watches(struct domain_manager *m, json_t *rec,
			   unsigned domid);
/* Receive a migrating domain on sock (taken over), described by record.
 * Returns it (still receiving) or NULL with err. */
struct domain *domain_receive(struct domain_manager *m, json_t *record,
			      int sock, char *err, size_t errlen);
/* The domain record in a save file (a new reference), or NULL with err. */
/* The guest's own store nodes (domain_guest_nodes.c). */
json_t *domain_guest_nodes_export(const struct domain *d);
void domain_guest_nodes_take(struct domain *d, json_t *record);
void domain_guest_nodes_write(struct domain *d);
json_t *save_file_domain(const char *path, char *err, size_t errlen);
struct api_call;
/* How xm save leaves the domain: destroyed (Xen's default), running
 * (-c, a checkpoint) or paused (-p). */
enum save_after { SAVE_DESTROY, SAVE_KEEP_RUNNING, SAVE_KEEP_PAUSED };
/* Management op "save": a deferred reply (NULL) or an error reply. */
json_t *domain_op_save(struct domain_manager *m, struct domain *d,
		       const char *path, enum save_after after,
		       struct api_call *call);

/* Management op "migrate" (domain_migrate.c). */
struct migrate_params {
	const char *host;
	unsigned port;
	bool live;
	bool postcopy;          /* live: switch to post-copy if not converging */
	unsigned downtime_ms;
	unsigned max_mib_s;     /* bandwidth cap, MiB/s; 0 = none */
};
json_t *domain_op_migrate(struct domain_manager *m, struct domain *d,
			  const struct migrate_params *mp,
			  struct api_call *call);
struct relocation;
struct relocation *relocation_open(struct domain_manager *m,
				   const char *address, unsigned port,
				   char *err, size_t errlen);
void relocation_close(struct relocation *r);

struct domain *domain_create(struct domain_manager *m,
			     const struct domain_create_req *req,
			     json_t *warnings, char *err, size_t errlen,
			     const char **errname);
/* Kill the domain's VMM at once and remove every trace of it. */
int domain_destroy(struct domain *d, char *err, size_t errlen);
/* Ask the guest to power off or reboot: Xen's control/shutdown protocol
 * when the guest advertises it, else the ACPI power button. */
int domain_shutdown(struct domain *d, bool reboot, char *err, size_t errlen);
int domain_pause(struct domain *d, bool pause, char *err, size_t errlen);
int domain_rename(struct domain *d, const char *name, char *err,
		  size_t errlen);

/* Xen's six state flags "rbpscd" for xm list. */
void domain_state_flags(const struct domain *d, char out[7]);
/* CPU time used, in seconds. */
double domain_cpu_time(const struct domain *d);
/* The domain as the management API shows it. */
json_t *domain_to_json(const struct domain *d);

/* Internals shared by the domain_*.c files. */
int domain_vmm_spawn(struct domain *d, char *err, size_t errlen);
int domain_vmm_request(const struct domain *d, const char *cmd,
		       json_t **reply, char *err, size_t errlen);
int domain_vmm_wait_ready(struct domain *d, char *err, size_t errlen);
void domain_vmm_kill(struct domain *d);
bool domain_vmm_alive(const struct domain *d);
/* A VMM whose pid xenond never recorded: ask DIR/control.sock for it and
 * take it (pid, start time).  -1 if nothing answers there. */
int domain_vmm_find(struct domain *d);
int domain_watch_pid(struct domain *d);
int domain_store_create(struct domain *d);
void domain_store_destroy(struct domain *d);
void domain_store_console(struct domain *d, const char *tty);
void domain_store_rename(struct domain *d);
int domain_record_save(const struct domain *d);
/* The same without waiting for the disk (the record written before a VMM
 * starts: it only has to survive xenond, not the host). */
int domain_record_note(const struct domain *d);
/* What domain.json holds; also what a save file carries as "domain". */
json_t *domain_record_json(const struct domain *d);
void domain_record_remove(const struct domain *d);
void domain_recover_all(struct domain_manager *m);
void domain_exited(struct domain *d, const char *reason);
int domain_attach_services(struct domain *d, char *err, size_t errlen);
void domain_detach_services(struct domain *d);
unsigned long long proc_start_time(pid_t pid);
void domain_link(struct domain_manager *m, struct domain *d);
struct domain *domain_from_record(struct domain_manager *m, json_t *j,
				  const char *dir);
const char *domain_exit_reason(const struct domain *d, int status);

#endif
