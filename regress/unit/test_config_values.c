/*
 * sendgated.conf: the value helpers of config.c the statements share,
 * without the grammar: durations and sizes parsed and formatted, host
 * names checked.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "unit.h"

#include "config.h"

enum value_parser {
	DURATION,		/* config_parse_duration() */
	SIZE			/* config_parse_size() */
};

static const struct {
	enum value_parser	 parser;
	const char		*input;
	int			 error;		/* errno of a -1, or 0 */
	uint64_t		 want;
} values[] = {
	{ DURATION, "0", 0, 0 },
	{ DURATION, "45", 0, 45 },
	{ DURATION, "45s", 0, 45 },
	{ DURATION, "60m", 0, 3600 },
	{ DURATION, "2h", 0, 7200 },
	{ DURATION, "5d", 0, 432000 },
	{ DURATION, "007m", 0, 420 },
	{ DURATION, "9223372036854775807", 0, INT64_MAX },
	{ DURATION, "9223372036854775807s", 0, INT64_MAX },
	{ DURATION, "9223372036854775808", ERANGE, 0 },
	{ DURATION, "99999999999999999999999", ERANGE, 0 },
	{ DURATION, "153722867280912930m", 0, 153722867280912930ULL * 60 },
	{ DURATION, "153722867280912931m", ERANGE, 0 },
	{ DURATION, "2562047788015215h", 0, 2562047788015215ULL * 3600 },
	{ DURATION, "2562047788015216h", ERANGE, 0 },
	{ DURATION, "106751991167300d", 0, 106751991167300ULL * 86400 },
	{ DURATION, "106751991167301d", ERANGE, 0 },
	{ DURATION, "", EINVAL, 0 },
	{ DURATION, "m", EINVAL, 0 },
	{ DURATION, "-1", EINVAL, 0 },
	{ DURATION, "+1", EINVAL, 0 },
	{ DURATION, " 1", EINVAL, 0 },
	{ DURATION, "1 ", EINVAL, 0 },
	{ DURATION, "1ms", EINVAL, 0 },
	{ DURATION, "1M", EINVAL, 0 },
	{ DURATION, "1w", EINVAL, 0 },
	{ DURATION, "1.5h", EINVAL, 0 },

	{ SIZE, "0", 0, 0 },
	{ SIZE, "512", 0, 512 },
	{ SIZE, "1K", 0, 1024 },
	{ SIZE, "1k", 0, 1024 },
	{ SIZE, "10M", 0, 10485760 },
	{ SIZE, "3G", 0, 3221225472ULL },
	{ SIZE, "18446744073709551615", 0, UINT64_MAX },
	{ SIZE, "18446744073709551616", ERANGE, 0 },
	{ SIZE, "18014398509481983K", 0, 18014398509481983ULL << 10 },
	{ SIZE, "18014398509481984K", ERANGE, 0 },
	{ SIZE, "17592186044415M", 0, 17592186044415ULL << 20 },
	{ SIZE, "17592186044416M", ERANGE, 0 },
	{ SIZE, "17179869183G", 0, 17179869183ULL << 30 },
	{ SIZE, "17179869184G", ERANGE, 0 },
	{ SIZE, "", EINVAL, 0 },
	{ SIZE, "K", EINVAL, 0 },
	{ SIZE, "-1", EINVAL, 0 },
	{ SIZE, "1KB", EINVAL, 0 },
	{ SIZE, "1T", EINVAL, 0 },
	{ SIZE, "1s", EINVAL, 0 },
	{ SIZE, "1 K", EINVAL, 0 },
};

/* On error the result is left alone: it starts as a value none gives. */
static void
test_values(void **state)
{
	int64_t		seconds;
	uint64_t	got;
	size_t		i;
	int		rc;

	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		seconds = 42;
		got = 42;
		errno = 0;
		if (values[i].parser == DURATION) {
			rc = config_parse_duration(values[i].input, &seconds);
			got = seconds;
		} else
			rc = config_parse_size(values[i].input, &got);
		if (values[i].error != 0 ? rc != -1 ||
		    errno != values[i].error || got != 42 :
		    rc != 0 || got != values[i].want)
			fail_msg("row %zu \"%s\": rc %d errno %d value %llu",
			    i, values[i].input, rc, errno,
			    (unsigned long long)got);
	}
}

/* Formatted, then parsed back to the value. */
static const struct {
	enum value_parser	 parser;
	uint64_t		 value;
	const char		*want;
} formats[] = {
	{ DURATION, 0, "0" },
	{ DURATION, 1, "1s" },
	{ DURATION, 59, "59s" },
	{ DURATION, 5400, "90m" },
	{ DURATION, 90000, "25h" },
	{ DURATION, 31536000, "365d" },
	{ DURATION, INT64_MAX, "9223372036854775807s" },
	{ SIZE, 0, "0" },
	{ SIZE, 1000, "1000" },
	{ SIZE, 1536, "1536" },
	{ SIZE, 1024, "1K" },
	{ SIZE, 36700160, "35M" },
	{ SIZE, 2147483648ULL, "2G" },
	{ SIZE, UINT64_MAX, "18446744073709551615" },
};

static void
test_formats(void **state)
{
	char		buf[CONFIG_FORMAT_MAX];
	int64_t		seconds = -1;
	uint64_t	back = 42;
	size_t		i;

	for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		if (formats[i].parser == DURATION) {
			config_format_duration(buf, sizeof(buf),
			    formats[i].value);
			assert_int_equal(config_parse_duration(buf, &seconds),
			    0);
			back = seconds;
		} else {
			config_format_size(buf, sizeof(buf), formats[i].value);
			assert_int_equal(config_parse_size(buf, &back), 0);
		}
		if (strcmp(buf, formats[i].want) != 0 ||
		    back != formats[i].value)
			fail_msg("row %zu: \"%s\", want \"%s\"; back %llu", i,
			    buf, formats[i].want, (unsigned long long)back);
	}
}

static const struct {
	const char	*input;
	int		 valid;		/* config_valid_hostname() */
	int		 dnsname;	/* config_valid_dnsname() */
} hostnames[] = {
	{ "a", 1, 1 },
	{ "localhost", 1, 1 },
	{ "mail.example.com", 1, 1 },
	{ "xn--bcher-kva.example", 1, 1 },
	{ "1.2.3.4", 1, 1 },
	{ "a-b.c-d", 1, 1 },
	{ "", 0, 0 },
	{ ".", 0, 0 },
	{ "a.", 0, 0 },
	{ ".a", 0, 0 },
	{ "a..b", 0, 0 },
	{ "-a", 0, 0 },
	{ "a-", 0, 0 },
	{ "a.-b", 0, 0 },
	{ "a_b", 0, 1 },
	{ "_spf.example.com", 0, 1 },
	{ "_", 0, 1 },
	{ "_-", 0, 0 },
	{ "_spf..example", 0, 0 },
	{ "a b", 0, 0 },
	{ "\xc3\xa9.example", 0, 0 },
};

static void
test_valid_hostname(void **state)
{
	size_t	i;

	for (i = 0; i < sizeof(hostnames) / sizeof(hostnames[0]); i++)
		if (config_valid_hostname(hostnames[i].input) !=
		    hostnames[i].valid ||
		    config_valid_dnsname(hostnames[i].input) !=
		    hostnames[i].dnsname)
			fail_msg("row %zu \"%s\": want %d %d", i,
			    hostnames[i].input, hostnames[i].valid,
			    hostnames[i].dnsname);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_valid_hostname),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
