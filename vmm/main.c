/* xenon-vmm: one process per domain. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "devices/devices.h"
#include "devices/block_backend.h"
#include "lib/log.h"
#include "lib/vmstate.h"
#include "vmm/boot.h"
#include "vmm/control.h"
#include "vmm/main_loop.h"
#include "vmm/migrate.h"
#include "vmm/save.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

static void on_vm_exit(void *opaque, uint32_t events)
{
	struct vm *vm = opaque;
	uint64_t v;

	(void)events;
	if (read(vm->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_errno("wake_fd");
	if (vm->state == VM_EXITING)
		main_loop_quit();
}

static int signal_fd = -1;

static void on_signal(void *opaque, uint32_t events)
{
	struct vm *vm = opaque;
	struct signalfd_siginfo si;

	(void)events;
	if (read(signal_fd, &si, sizeof(si)) == sizeof(si)) {
		log_info("signal %u: stopping the domain", si.ssi_signo);
		vm_request_exit(vm, VM_EXIT_STOPPED);
	}
}

/* sigaction, not signal(): ASan's signal() interceptor drops SIGXFSZ. */
static void ignore_signal(int sig)
{
	struct sigaction ign = { .sa_handler = SIG_IGN };

	sigaction(sig, &ign, NULL);
}

/* SIGTERM/SIGINT/SIGHUP end the domain cleanly via the main loop. */
static int setup_signals(struct vm *vm)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* A file-size limit hit while saving fails the write (EFBIG) and
	 * the save, instead of killing the domain. */
	ignore_signal(SIGXFSZ);
	signal_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (signal_fd < 0)
		return -1;
	return main_loop_add_fd(signal_fd, EPOLLIN, on_signal, vm);
}

static const char *exit_reason(int status)
{
	switch (status) {
	case VM_EXIT_POWEROFF: return "powered off";
	case VM_EXIT_REBOOT: return "rebooted";
	case VM_EXIT_CRASH: return "crashed";
	case VM_EXIT_INTERNAL: return "stopped on an internal error";
	case VM_EXIT_STOPPED: return "stopped";
	case VM_EXIT_SAVED: return "saved or migrated away";
	default: return "exited";
	}
}

/* The word xenond reads to pick the on_poweroff/on_reboot/on_crash
 * action; it cannot wait() for a VMM it did not start itself. */
static const char *exit_word(int status)
{
	switch (status) {
	case VM_EXIT_POWEROFF: return "poweroff";
	case VM_EXIT_REBOOT: return "reboot";
	case VM_EXIT_CRASH: return "crash";
	case VM_EXIT_INTERNAL: return "internal";
	case VM_EXIT_STOPPED: return "stopped";
	case VM_EXIT_SAVED: return "saved";
	default: return "error";
	}
}

static void write_exit_file(const char *path, int status)
{
	FILE *f = fopen(path, "we");
	bool bad;

	if (!f) {
		log_errno("--exit-file: '%s'", path);
		return;
	}
	bad = fprintf(f, "%s\n", exit_word(status)) < 0;
	if (fclose(f) || bad)
		log_errno("--exit-file: '%s'", path);
}

_Noreturn void vmm_exit_now(const struct vm *vm, enum vm_exit_status status)
{
	if (vm->opts && vm->opts->exit_file)
		write_exit_file(vm->opts->exit_file, (int)status);
	_exit((int)status);
}

/* A domain comes from a kernel, a save file or an incoming migration. */
static struct restore_ctx *restoring;
static struct incoming_ctx *incoming;

static int load_guest(struct vm *vm)
{
	if (restoring)
		return restore_apply(vm, restoring);
	if (incoming)
		return incoming_receive(vm, incoming);
	return boot_load(vm);
}

/* --verbose: where start-up time goes (restore must stay within 10 ms). */
static void phase(const char *what, uint64_t start)
{
	log_debug("start-up: %s at %llu us", what,
		  (unsigned long long)((monotonic_ns() - start) / 1000));
}

static int run(struct vm *vm, const struct vmm_options *opts, uint64_t start)
{
	phase("options read", start);
	if (vm_create(vm, opts) < 0)
		return -1;
	vm->start_ns = start;
	phase("VM created", start);
	if (incoming)
		block_locks_defer();	/* the source holds them until "go" */
	if (devices_create(vm) < 0)
		return -1;
	phase("devices created", start);
	if (load_guest(vm) < 0)
		return -1;
	phase("guest loaded", start);
	if (setup_signals(vm) < 0 ||
	    main_loop_add_fd(vm->wake_fd, EPOLLIN, on_vm_exit, vm) < 0)
		return -1;
	if (opts->control_path && control_open(vm, opts->control_path) < 0)
		return -1;
	if (vcpus_start(vm) < 0)
		return -1;
	if (restoring || incoming)
		log_info("domain %s in %llu us (monitor start to vCPUs running)",
			 restoring ? "restored" : "received",
			 (unsigned long long)((monotonic_ns() - start) / 1000));
	if (incoming)
		incoming_finish(vm, incoming);
	if (restoring)
		vmstate_announce_all();	/* the guest may be on another port */
	main_loop_run();
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t start = monotonic_ns();
	struct vmm_options cli, opts;
	struct vm vm;
	int status;

	log_init("xenon-vmm", LOG_INFO);
	if (vmm_options_parse(&cli, argc, argv) < 0)
		return VM_EXIT_ERROR;
	opts = cli;
	if (cli.verbose)
		log_init("xenon-vmm", LOG_DEBUG);
	if (cli.save_info)
		return restore_print_info(&cli) < 0 ? VM_EXIT_ERROR : 0;
	cpuid_prefetch_start();
	if ((cli.restore && restore_open(&cli, &opts, &restoring) < 0) ||
	    (cli.incoming && incoming_open(&cli, &opts, &incoming) < 0)) {
		cpuid_prefetch_finish();
		return VM_EXIT_ERROR;
	}
	if (opts.verbose)
		log_init("xenon-vmm", LOG_DEBUG);
	if (main_loop_init() < 0) {
		cpuid_prefetch_finish();
		return VM_EXIT_ERROR;
	}

	if (run(&vm, &opts, start) < 0) {
		vm_request_exit(&vm, VM_EXIT_ERROR);
		status = VM_EXIT_ERROR;
	} else {
		status = vm.exit_status;
		log_info("domain %s%s%s", opts.name ? opts.name : "",
			 opts.name ? " " : "", exit_reason(status));
	}
	migrate_shutdown(&vm);
	vcpus_join(&vm);
	control_close();
	devices_destroy(&vm);
	restore_stop_paging(restoring);
	incoming_stop_paging(incoming);
	vm_destroy(&vm);
	cpuid_prefetch_finish();
	restore_close(restoring);
	incoming_close(incoming);
	if (signal_fd >= 0)
		close(signal_fd);
	if (opts.exit_file)
		write_exit_file(opts.exit_file, status);
	return status;
}
