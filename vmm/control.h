/* The monitor's control socket: newline-delimited JSON requests
 * {"cmd": "status"|"pause"|"resume"|"stop"|"power-button"} answered by one
 * JSON line {"ok": true, ...} or {"ok": false, "error": "..."}.
 * Protocol in docs/monitor.md; the daemon (xenond) is its main client. */
#ifndef XENON_CONTROL_H
#define XENON_CONTROL_H

struct vm;

int control_open(struct vm *vm, const char *path);
void control_close(void);

#endif
