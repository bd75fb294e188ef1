/*
 * log_escape: no control byte, DEL or high byte reaches a log line raw,
 * and truncation is visible.
 */
#include <string.h>

#include "unit.h"

#include "log.h"

static void
test_escape_table(void **state)
{
	static const struct {
		const char	*in;
		size_t		 len;
		const char	*out;
	} rows[] = {
		{ "plain text", 10, "plain text" },
		{ "a\r\nMAIL FROM:<x>", 16, "a\\r\\nMAIL FROM:<x>" },
		{ "tab\there", 8, "tab\\there" },
		{ "nul\0byte", 8, "nul\\x00byte" },
		{ "esc\033[31m", 8, "esc\\x1b[31m" },
		{ "del\177", 4, "del\\x7f" },
		{ "back\\slash", 10, "back\\\\slash" },
		{ "utf8 \xc3\xa9", 7, "utf8 \\xc3\\xa9" },
		{ "", 0, "" },
	};
	char	 buf[128];
	size_t	 i, n;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		n = log_escape(buf, sizeof(buf), rows[i].in, rows[i].len);
		if (strcmp(buf, rows[i].out) != 0 || n != strlen(buf))
			fail_msg("row %zu: got \"%s\" want \"%s\"", i, buf,
			    rows[i].out);
	}
}

static void
test_escape_truncates_visibly(void **state)
{
	char	 buf[12];
	size_t	 n;

	n = log_escape(buf, sizeof(buf), "0123456789abcdef", 16);
	assert_string_equal(buf, "01234567...");
	assert_int_equal(n, 11);
	/* An escape is never cut in half. */
	n = log_escape(buf, sizeof(buf), "abcdef\n\n\n\n", 10);
	assert_string_equal(buf, "abcdef\\n...");
	assert_int_equal(log_escape(buf, 1, "abc", 3), 0);
	assert_string_equal(buf, "");
}

static void
test_escape_output_has_no_control_bytes(void **state)
{
	char	 in[256], out[1100];
	size_t	 i;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (char)i;
	log_escape(out, sizeof(out), in, sizeof(in));
	for (i = 0; out[i] != '\0'; i++)
		if ((unsigned char)out[i] < 0x20 ||
		    (unsigned char)out[i] >= 0x7f)
			fail_msg("raw byte 0x%02x at %zu", (unsigned char)out[i],
			    i);
	/* 94 printable, one backslash doubled, 3 short escapes, 158 \\xNN */
	assert_int_equal(strlen(out), 94 + 2 + 3 * 2 + 158 * 4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_table),
		cmocka_unit_test(test_escape_truncates_visibly),
		cmocka_unit_test(test_escape_output_has_no_control_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
