/*
 * Xen virtual device numbers (xen-vbd-interface(7)): the number a guest's
 * blkfront sees for "xvda", "hdc", "sda1", ... as libxl computes them.
 *
 *   xvd: 202 << 8 | disk << 4 | partition     (disk <= 15, partition <= 15)
 *        1 << 28 | disk << 8 | partition      (extended: up to 2^20 disks)
 *   hd:  (disk < 2 ? 3 : 22) << 8 | (disk & 1) << 6 | partition
 *   sd:  8 << 8 | disk << 4 | partition
 */
#include "lib/domain_config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* PREFIX, then the disk as letters (a = 0, z = 25, aa = 26: bijective base
 * 26, as libxl), then an optional partition without leading zeros. */
static bool virtdisk_match(const char *s, const char *prefix,
			   unsigned max_disk, unsigned max_part,
			   unsigned *disk, unsigned *part)
{
	size_t pl = strlen(prefix);
	unsigned long d = 0, pn = 0;
	const char *p;

	if (strncmp(s, prefix, pl) != 0)
		return false;
	p = s + pl;
	if (*p < 'a' || *p > 'z')
		return false;
	for (bool first = true; *p >= 'a' && *p <= 'z'; p++, first = false) {
		d = (first ? 0 : (d + 1) * 26) + (unsigned long)(*p - 'a');
		if (d > max_disk)
			return false;
	}
	if (*p == '0')
		return false;
	for (; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return false;
		pn = pn * 10 + (unsigned long)(*p - '0');
		if (pn > max_part)
			return false;
	}
	*disk = (unsigned)d;
	*part = (unsigned)pn;
	return true;
}

static uint32_t xvd_number(unsigned disk, unsigned part)
{
	if (disk <= 15 && part <= 15)
		return 202u << 8 | disk << 4 | part;
	return 1u << 28 | disk << 8 | part;
}

/* libxl's other spelling of an xvd disk: d<disk>p<partition>. */
static bool dp_match(const char *s, unsigned *disk, unsigned *part)
{
	int used = -1;

	if (s[0] != 'd' || !isdigit((unsigned char)s[1]))
		return false;
	if (sscanf(s, "d%up%u%n", disk, part, &used) != 2 ||
	    used != (int)strlen(s))
		return false;
	return *disk < (1u << 20) && *part < 256;
}

static bool plain_number(const char *s, uint32_t *out)
{
	unsigned long v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return false;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > 0x7fffffff)
			return false;
	}
	*out = (uint32_t)v;
	return true;
}

int xl_vdev_number(const char *vdev, uint32_t *devnum)
{
	unsigned disk, part;

	if (dp_match(vdev, &disk, &part) ||
	    virtdisk_match(vdev, "xvd", (1u << 20) - 1, 255, &disk, &part)) {
		*devnum = xvd_number(disk, part);
		return 0;
	}
	if (plain_number(vdev, devnum))
		return 0;
	if (virtdisk_match(vdev, "hd", 3, 63, &disk, &part)) {
		*devnum = (disk < 2 ? 3u : 22u) << 8 | (disk & 1) << 6 | part;
		return 0;
	}
	if (virtdisk_match(vdev, "sd", 15, 15, &disk, &part)) {
		*devnum = 8u << 8 | disk << 4 | part;
		return 0;
	}
	return -1;
}

const char *xl_disk_format_name(enum xl_disk_format f)
{
	switch (f) {
	case XL_FORMAT_RAW:   return "raw";
	case XL_FORMAT_QCOW:  return "qcow";
	case XL_FORMAT_QCOW2: return "qcow2";
	case XL_FORMAT_VHD:   return "vhd";
	case XL_FORMAT_QED:   return "qed";
	case XL_FORMAT_EMPTY: return "empty";
	}
	return "?";
}

const char *xl_disk_backend_name(enum xl_disk_backend b)
{
	switch (b) {
	case XL_BACKEND_PHY:     return "phy";
	case XL_BACKEND_FILE:    return "file";
	case XL_BACKEND_TAP_AIO: return "tap-aio";
	case XL_BACKEND_QCOW2:   return "qcow2";
	}
	return "?";
}
