/* The message list every config function reports into. */
#include "lib/xl_config.h"
#include "lib/xl_internal.h"

#include <stdarg.h>
#include <stdlib.h>

void xl_msgs_init(struct xl_msgs *m)
{
	*m = (struct xl_msgs){ 0 };
}

void xl_msgs_free(struct xl_msgs *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i].text);
	free(m->v);
	xl_msgs_init(m);
}

void xl_msgs_add(struct xl_msgs *m, enum xl_severity sev,
		 const struct xl_loc *loc, const char *fmt, ...)
{
	va_list ap;
	char *what;

	if (sev == XL_ERROR)
		m->errors++;
	else
		m->warnings++;
	/* A hostile input can provoke a message per byte; keep the first
	 * ones, which are the useful ones, and count the rest. */
	if (m->n >= XL_MSGS_MAX) {
		m->dropped++;
		return;
	}
	va_start(ap, fmt);
	what = xl_xvasprintf(fmt, ap);
	va_end(ap);
	xl_xgrow((void **)&m->v, m->n, &m->cap, sizeof(*m->v));
	if (loc && loc->file) {
		m->v[m->n].text = xl_xasprintf("%s:%u:%u: %s", loc->file,
					       loc->line, loc->col, what);
		free(what);
	} else {
		m->v[m->n].text = what;
	}
	m->v[m->n].severity = sev;
	m->n++;
}

void xl_msgs_print(const struct xl_msgs *m, FILE *out)
{
	for (size_t i = 0; i < m->n; i++)
		fprintf(out, "%s: %s\n",
			m->v[i].severity == XL_ERROR ? "error" : "warning",
			m->v[i].text);
	if (m->dropped)
		fprintf(out, "(%u more messages not shown)\n", m->dropped);
}
