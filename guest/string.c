/*
 * String helpers.  memset/memcpy use rep stos/movs rather than C loops:
 * gcc may compile the obvious loop back into a call to memset itself, and
 * the rep forms are fast without touching vector registers.  Where every
 * instruction is emulated each rep iteration costs as much as an
 * instruction, so the bulk moves 8 bytes per iteration.
 */
#include "guest/string.h"

#include <stdint.h>

void *memset(void *dst, int c, size_t n)
{
	uint64_t pattern = 0x0101010101010101ULL * (uint8_t)c;
	size_t words = n / 8, bytes = n % 8;
	void *d = dst;

	__asm__ volatile("rep stosq"
			 : "+D"(d), "+c"(words) : "a"(pattern) : "memory");
	__asm__ volatile("rep stosb"
			 : "+D"(d), "+c"(bytes) : "a"(pattern) : "memory");
	return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
	size_t words = n / 8, bytes = n % 8;
	void *d = dst;

	__asm__ volatile("rep movsq"
			 : "+D"(d), "+S"(src), "+c"(words) : : "memory");
	__asm__ volatile("rep movsb"
			 : "+D"(d), "+S"(src), "+c"(bytes) : : "memory");
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (d <= s || d >= s + n)
		return memcpy(dst, src, n);
	while (n--)
		d[n] = s[n];
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return x[i] - y[i];
	return 0;
}

/* One repne scasb: an emulated rep iteration is cheaper than the three
 * or four instructions of a C loop per byte. */
size_t strnlen(const char *s, size_t max)
{
	const char *p = s;
	size_t left = max;

	if (!max)
		return 0;
	__asm__ volatile("repne scasb"
			 : "+D"(p), "+c"(left) : "a"(0) : "memory", "cc");
	return p[-1] ? max : (size_t)(p - s) - 1;
}

size_t strlen(const char *s)
{
	return strnlen(s, SIZE_MAX);
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (a[i] != b[i])
			return (unsigned char)a[i] - (unsigned char)b[i];
		if (!a[i])
			return 0;
	}
	return 0;
}

int strcmp(const char *a, const char *b)
{
	return strncmp(a, b, SIZE_MAX);
}

char to_upper(char c)
{
	return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
}
