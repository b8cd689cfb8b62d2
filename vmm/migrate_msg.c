/* Migration hand-shake messages (see migrate_msg.h). */
#include "vmm/migrate_msg.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int mig_msg_send(struct ss_stream *s, const char *msg, const char *error,
		 bool running)
{
	json_t *j = json_pack("{s:s, s:b}", "msg", msg, "running", running);
	char *text;
	int ret;

	if (error)
		json_object_set_new(j, "error", json_string(error));
	text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!text)
		return ss_fail(s, NULL, "out of memory");
	ret = ss_write_section(s, SS_SEC_MIG_MSG, SS_SEC_F_MANDATORY, 0, 1, text,
			       strlen(text));
	free(text);
	return ret;
}

int mig_msg_read(struct ss_stream *s, char *msg, size_t msglen, char *text,
		 size_t textlen, bool *running, char *err, size_t errlen)
{
	struct ss_section sec;
	void *p = NULL;
	int r = ss_read_section(s, &sec, &p, 65536);

	text[0] = msg[0] = 0;
	if (r <= 0 || sec.type != SS_SEC_MIG_MSG) {
		snprintf(err, errlen, "%s", r < 0 ? s->error : "unexpected section");
		free(p);
		return -1;
	}
	r = mig_msg_parse(p, (size_t)sec.length, msg, msglen, text, textlen,
			  running, err, errlen);
	free(p);
	return r;
}

int mig_msg_parse(const void *payload, size_t len, char *msg, size_t msglen,
		  char *text, size_t textlen, bool *running, char *err,
		  size_t errlen)
{
	json_t *j = json_loadb(payload, len, 0, NULL);

	text[0] = msg[0] = 0;
	if (!json_is_string(json_object_get(j, "msg"))) {
		json_decref(j);
		snprintf(err, errlen, "malformed message");
		return -1;
	}
	snprintf(msg, msglen, "%s", json_string_value(json_object_get(j, "msg")));
	if (json_is_string(json_object_get(j, "error")))
		snprintf(text, textlen, "%s",
			 json_string_value(json_object_get(j, "error")));
	if (running)
		*running = json_is_true(json_object_get(j, "running"));
	json_decref(j);
	return 0;
}
