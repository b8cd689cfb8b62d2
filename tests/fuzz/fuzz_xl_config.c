/*
 * libFuzzer harness for the guest config path: the whole input as a config
 * file (parse, build struct domain_config, render JSON), and the same
 * bytes as each of the little grammars a config string can reach (disk and
 * vif specs, CPU lists, rates, vdevs, UUIDs, MACs, a command-line
 * override).  Run with `make fuzz-config`; seeds are tests/data/configs.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/domain_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void whole_config(const uint8_t *data, size_t size)
{
	static const char *const overrides[] = { "memory=64", "vcpus=2" };
	struct domain_config dc;
	struct xl_msgs m;

	xl_msgs_init(&m);
	if (domain_config_load_text(&dc, "fuzz.cfg", (const char *)data, size,
				    overrides, size % 3, &m) == 0) {
		char *json = domain_config_to_json_text(&dc);

		/* Every string we print must be valid JSON text. */
		if (!json)
			abort();
		free(json);
	}
	domain_config_free(&dc);
	xl_msgs_free(&m);
}

static void specs(const char *s)
{
	struct xl_spec_ctx ctx;
	struct xl_msgs m;
	struct xl_disk d;
	struct xl_vif v;
	struct cpumap map;
	struct xl_config cfg;
	uint8_t uuid[16], mac[6];
	uint64_t bps;
	uint32_t us, devnum;
	const char *why;

	xl_msgs_init(&m);
	ctx = (struct xl_spec_ctx){ &m, { "fuzz", 1, 1 }, "disk[0]" };
	xl_disk_parse(&d, s, &ctx);
	xl_disk_free(&d);
	ctx.what = "vif[0]";
	xl_vif_parse(&v, s, &ctx);
	xl_vif_free(&v);
	if (xl_cpulist_parse(s, &map, &why) == 0)
		free(cpumap_format(&map));
	xl_rate_parse(s, &bps, &us, &why);
	xl_vdev_number(s, &devnum);
	xl_uuid_parse(s, uuid);
	xl_mac_parse(s, mac);
	xl_config_init(&cfg);
	xl_config_override(&cfg, s, 1, &m);
	xl_config_free(&cfg);
	xl_msgs_free(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	whole_config(data, size);
	/* The small grammars see C strings: stop at the first NUL. */
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	specs(s);
	free(s);
	return 0;
}
