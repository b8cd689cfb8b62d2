/* The fallback's decoder (vmm/insn_decode.c): int3, fwait, and every
 * addressing form of ldmxcsr/stmxcsr, against encodings from the GNU
 * assembler; anything else, or a truncated instruction, is unknown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vmm/insn_decode.h"

enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13 };

static uint64_t gpr[16];

static int setup(void **state)
{
	(void)state;
	for (unsigned i = 0; i < 16; i++)
		gpr[i] = 0x1000000ull * (i + 1);
	return 0;
}

#define DECODE(in, ...)                                                       \
	({                                                                    \
		static const uint8_t b_[] = { __VA_ARGS__ };                  \
		insn_decode(b_, sizeof(b_), (in));                            \
	})

static void test_int3_and_fwait(void **state)
{
	struct insn in;

	(void)state;
	assert_int_equal(DECODE(&in, 0xcc), INSN_INT3);
	assert_int_equal(in.len, 1);
	assert_int_equal(DECODE(&in, 0x9b, 0x90), INSN_FWAIT);
	assert_int_equal(in.len, 1);
	/* int $3 (cd 03) is another instruction; so is a prefixed int3 */
	assert_int_equal(DECODE(&in, 0xcd, 0x03), INSN_UNKNOWN);
	assert_int_equal(DECODE(&in, 0x66, 0xcc), INSN_UNKNOWN);
}

/* ldmxcsr (%rsp): 0f ae 14 24 (SIB, base rsp, no index) */
static void test_sib_base(void **state)
{
	struct insn in;

	(void)state;
	assert_int_equal(DECODE(&in, 0x0f, 0xae, 0x14, 0x24), INSN_LDMXCSR);
	assert_int_equal(in.len, 4);
	assert_int_equal(insn_mem_address(&in, gpr, 0, 0, 0), gpr[RSP]);
	/* stmxcsr 4(%rsp): 0f ae 5c 24 04 */
	assert_int_equal(DECODE(&in, 0x0f, 0xae, 0x5c, 0x24, 0x04),
			 INSN_STMXCSR);
	assert_int_equal(in.len, 5);
	assert_int_equal(insn_mem_address(&in, gpr, 0, 0, 0), gpr[RSP] + 4);
}

/* ldmxcsr 0x100(%rip): from the end of the instruction */
static void test_rip_relative(void **state)
{
	struct insn in;

	(void)state;
	assert_int_equal(DECODE(&in, 0x0f, 0xae, 0x15, 0x00, 0x01, 0x00, 0x00),
			 INSN_LDMXCSR);
	assert_int_equal(in.len, 7);
	assert_int_equal(insn_mem_address(&in, gpr, 0x401000, 0, 0),
			 0x401000 + 7 + 0x100);
}

static void test_index_scale_and_rex(void **state)
{
	struct insn in;

	(void)state;
	/* stmxcsr (%rsi,%rcx,4): 0f ae 1c 8e */
	assert_int_equal(DECODE(&in, 0x0f, 0xae, 0x1c, 0x8e), INSN_STMXCSR);
	assert_int_equal(insn_mem_address(&in, gpr, 0, 0, 0),
			 gpr[RSI] + gpr[RCX] * 4);
	/* ldmxcsr 8(%r13): 41 0f ae 55 08 (REX.B; rm 5 with mod 1 is a base) */
	assert_int_equal(DECODE(&in, 0x41, 0x0f, 0xae, 0x55, 0x08),
			 INSN_LDMXCSR);
	assert_int_equal(in.len, 5);
	assert_int_equal(insn_mem_address(&in, gpr, 0, 0, 0), gpr[R13] + 8);
	/* stmxcsr -8(%r12,%r9,8): 43 0f ae 5c cc f8 (REX.X and REX.B) */
	assert_int_equal(DECODE(&in, 0x43, 0x0f, 0xae, 0x5c, 0xcc, 0xf8),
			 INSN_STMXCSR);
	assert_int_equal(in.len, 6);
	assert_int_equal(insn_mem_address(&in, gpr, 0, 0, 0),
			 gpr[R12] + gpr[R9] * 8 - 8);
	/* ldmxcsr 0x0(%rbp): 0f ae 55 00 */
	assert_int_equal(DECODE(&in, 0x0f, 0xae, 0x55, 0x00), INSN_LDMXCSR);
	assert_int_equal(insn_mem_address(&in, gpr, 0, 0, 0), gpr[RBP]);
}

static void test_segment_and_address_size(void **state)
{
	struct insn in;

	(void)state;
	/* ldmxcsr %gs:0x1000: 65 0f ae 14 25 00 10 00 00 (no base, no index) */
	assert_int_equal(DECODE(&in, 0x65, 0x0f, 0xae, 0x14, 0x25, 0x00, 0x10,
				0x00, 0x00), INSN_LDMXCSR);
	assert_int_equal(in.len, 9);
	assert_int_equal(insn_mem_address(&in, gpr, 0, 0x7000, 0xff0000),
			 0xff0000 + 0x1000);
	/* ldmxcsr (%eax): 67 0f ae 10 */
	gpr[RAX] = 0xdead00000040ull;
	assert_int_equal(DECODE(&in, 0x67, 0x0f, 0xae, 0x10), INSN_LDMXCSR);
	assert_int_equal(insn_mem_address(&in, gpr, 0, 0, 0), 0x40);
}

static void test_not_ours(void **state)
{
	struct insn in;

	(void)state;
	/* register form, fxsave (/0), an f3 prefix (another instruction) */
	assert_int_equal(DECODE(&in, 0x0f, 0xae, 0xd0), INSN_UNKNOWN);
	assert_int_equal(DECODE(&in, 0x0f, 0xae, 0x04, 0x24), INSN_UNKNOWN);
	assert_int_equal(DECODE(&in, 0xf3, 0x0f, 0xae, 0x14, 0x24),
			 INSN_UNKNOWN);
	assert_int_equal(DECODE(&in, 0xf0, 0x0f, 0xae, 0x14, 0x24),
			 INSN_UNKNOWN);
	/* truncated: the disp8 and the SIB byte missing */
	assert_int_equal(DECODE(&in, 0x0f, 0xae, 0x5c, 0x24), INSN_UNKNOWN);
	assert_int_equal(DECODE(&in, 0x0f, 0xae, 0x14), INSN_UNKNOWN);
	/* fifteen prefixes and nothing else */
	assert_int_equal(DECODE(&in, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
				0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66),
			 INSN_UNKNOWN);
	assert_int_equal(insn_decode(NULL, 0, &in), INSN_UNKNOWN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_int3_and_fwait, setup),
		cmocka_unit_test_setup(test_sib_base, setup),
		cmocka_unit_test_setup(test_rip_relative, setup),
		cmocka_unit_test_setup(test_index_scale_and_rex, setup),
		cmocka_unit_test_setup(test_segment_and_address_size, setup),
		cmocka_unit_test_setup(test_not_ours, setup),
	};

	return cmocka_run_group_tests_name("insn_decode", tests, NULL, NULL);
}
