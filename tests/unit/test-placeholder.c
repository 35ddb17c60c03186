/* Unit tests for ${nic.NAME.FIELD} placeholders (daemon/placeholder.c). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "placeholder.h"
#include "uerr.h"
#include "vmspec.h"

static struct vm_nic nics[2];

static int
setup(void **state)
{
	(void)state;
	memset(nics, 0, sizeof(nics));
	snprintf(nics[0].name, sizeof(nics[0].name), "service");
	snprintf(nics[0].network, sizeof(nics[0].network), "lan");
	snprintf(nics[0].mac, sizeof(nics[0].mac), "02:00:00:00:00:05");
	snprintf(nics[0].ip, sizeof(nics[0].ip), "10.0.0.5");
	snprintf(nics[0].cidr, sizeof(nics[0].cidr), "10.0.0.5/24");
	snprintf(nics[0].gateway, sizeof(nics[0].gateway), "10.0.0.1");
	snprintf(nics[0].tap, sizeof(nics[0].tap), "uk2a");
	snprintf(nics[1].name, sizeof(nics[1].name), "admin");
	snprintf(nics[1].network, sizeof(nics[1].network), "bare");
	snprintf(nics[1].mac, sizeof(nics[1].mac), "02:00:00:00:00:06");
	return 0;
}

/* Expands in and checks the result (want NULL: must fail with 422). */
static void
expands(const char *in, bool strict, const char *want, const char *needle)
{
	struct uerr e = {0};
	char *out = (char *)"untouched";
	int rc;

	rc = placeholder_expand(in, nics, 2, strict, &out, &e);
	if (want == NULL) {
		assert_int_equal(rc, -1);
		assert_null(out);
		assert_int_equal(e.status, 422);
		if (needle != NULL && strstr(e.message, needle) == NULL)
			fail_msg("'%s' not in '%s'", needle, e.message);
		return;
	}
	assert_int_equal(rc, 0);
	assert_string_equal(out, want);
	free(out);
}

static void
test_fields(void **state)
{
	(void)state;
	expands("--ipv4=${nic.service.cidr}", true, "--ipv4=10.0.0.5/24",
	    NULL);
	expands("--ipv4-gateway=${nic.service.gateway}", true,
	    "--ipv4-gateway=10.0.0.1", NULL);
	expands("${nic.service.ip}:${nic.service.mac}@${nic.service.tap}",
	    true, "10.0.0.5:02:00:00:00:00:05@uk2a", NULL);
	expands("mac=${nic.admin.mac}", true, "mac=02:00:00:00:00:06", NULL);
}

static void
test_plain(void **state)
{
	(void)state;
	expands("", true, "", NULL);
	expands("hello world", true, "hello world", NULL);
	expands("cost $5 {x}", true, "cost $5 {x}", NULL);
	expands("$${nic.service.ip}", true, "${nic.service.ip}", NULL);
	expands("a$", true, "a$", NULL);
}

static void
test_unknown(void **state)
{
	(void)state;
	expands("${nic.nosuch.ip}", false, NULL, "'${nic.nosuch.ip}'");
	expands("${nic.service.netmask}", false, NULL,
	    "'${nic.service.netmask}'");
	expands("${nic.service}", false, NULL, "unknown placeholder");
	expands("${HOME}", false, NULL, "unknown placeholder");
	expands("${nic.servic.ip}", false, NULL, "unknown placeholder");
	expands("x ${nic.service.ip", false, NULL, "unterminated");
}

/* A NIC with no address: empty when starting, refused when creating. */
static void
test_no_address(void **state)
{
	(void)state;
	expands("--ip=${nic.admin.ip}", false, "--ip=", NULL);
	expands("--ip=${nic.admin.ip}", true, NULL, "no value");
	expands("--gw=${nic.admin.gateway}", true, NULL, "no value");
}

static void
test_value_lookup(void **state)
{
	const char *name = "nic.service.ip and more";

	(void)state;
	assert_string_equal(placeholder_nic_value(nics, 2, name, 14),
	    "10.0.0.5");
	assert_null(placeholder_nic_value(nics, 2, name, 13));
	assert_null(placeholder_nic_value(nics, 0, name, 14));
	assert_string_equal(placeholder_nic_value(nics, 2, "nic.admin.tap",
	    13), "");
}

/* A lookup of its own: "n" is 42, "e" is empty, nothing else exists. */
static const char *
own_lookup(void *arg, const char *name, size_t len)
{
	int *calls = arg;

	(*calls)++;
	if (len == 1 && name[0] == 'n')
		return "42";
	if (len == 1 && name[0] == 'e')
		return "";
	return NULL;
}

/* The expander serves any lookup, with the caller's words in errors. */
static void
test_own_lookup(void **state)
{
	int calls = 0;
	struct placeholder_scope sc = {.what = "[x] y: ", .known = "${n}",
	    .lookup = own_lookup, .arg = &calls};
	struct uerr e = {0};
	char *out;

	(void)state;
	assert_int_equal(placeholder_subst("a${n}b${e}c$${n}", &sc, &out, &e),
	    0);
	assert_string_equal(out, "a42bc${n}");
	assert_int_equal(calls, 2);
	free(out);
	assert_int_equal(placeholder_subst("${nic.service.ip}", &sc, &out, &e),
	    -1);
	assert_null(out);
	assert_int_equal(e.status, 422);
	assert_string_equal(e.message,
	    "[x] y: unknown placeholder '${nic.service.ip}' (known: ${n})");
	sc.empty = "none set";
	assert_int_equal(placeholder_subst("-${e}", &sc, &out, &e), -1);
	assert_string_equal(e.message,
	    "[x] y: placeholder '${e}' has no value: none set");
	assert_int_equal(placeholder_subst("${n", &sc, &out, &e), -1);
	assert_string_equal(e.message,
	    "[x] y: unterminated placeholder in '${n'");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_fields, setup),
	    cmocka_unit_test_setup(test_plain, setup),
	    cmocka_unit_test_setup(test_unknown, setup),
	    cmocka_unit_test_setup(test_no_address, setup),
	    cmocka_unit_test_setup(test_value_lookup, setup),
	    cmocka_unit_test(test_own_lookup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
