# cli/: xm and xl (one binary; xl is a symlink), one file per command
# family, the command table in cmdtable.c (as Xen's xl_cmdtable.c).
XM_SRCS += cli/main.c cli/cmdtable.c cli/client.c cli/create.c \
	   cli/domain_info.c cli/domain_lifecycle.c cli/console.c \
	   cli/top.c cli/domain_migrate.c
XM_LIBS += -ljansson -lncurses
PROGRAMS += $(BUILD)/xm $(BUILD)/xl
