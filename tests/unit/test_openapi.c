/* test_openapi: the route table and src/api/openapi.json cannot drift apart. */
#include "openapi.h"
#include "routes.h"
#include "scope.h"
#include "suites.h"

#include <CUnit/CUnit.h>
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

static json_t *doc;

static int setup(void)
{
	json_error_t e;
	doc = json_loadb(OPENAPI_JSON, OPENAPI_JSON_LEN, JSON_REJECT_DUPLICATES, &e);
	if (!doc)
		fprintf(stderr, "openapi.json: %s (line %d)\n", e.text, e.line);
	return doc ? 0 : -1;
}

static int teardown(void)
{
	json_decref(doc);
	return 0;
}

static const char *const METHODS[] = {"get", "put", "post", "delete", "options", "head", "patch", "trace", NULL};

static json_t *operation(const char *path, const char *method)
{
	char lower[16];
	size_t i = 0;
	for (; method[i] && i < sizeof lower - 1; i++)
		lower[i] = (char)tolower((unsigned char)method[i]);
	lower[i] = '\0';
	return json_object_get(json_object_get(json_object_get(doc, "paths"), path), lower);
}

static void test_version(void)
{
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(doc, "openapi")), "3.1.0");
	CU_ASSERT_PTR_NOT_NULL(json_object_get(json_object_get(json_object_get(doc, "components"), "securitySchemes"),
					       "bearerAuth"));
}

/* Every route has its operation, with the same operationId and scope. */
static void test_routes_have_operations(void)
{
	for (int i = 0; i < ROUTES_COUNT; i++) {
		const route *rt = &ROUTES[i];
		json_t *op = operation(rt->path, rt->method);
		if (!op) {
			fprintf(stderr, "\n  no operation for %s %s\n", rt->method, rt->path);
			CU_FAIL("route without an operation");
			continue;
		}
		CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(op, "operationId")), rt->operation_id);
		json_t *scopes = json_object_get(op, "x-required-scopes");
		const char *desc = json_string_value(json_object_get(op, "description"));
		CU_ASSERT_PTR_NOT_NULL_FATAL(desc);
		if (rt->flags & ROUTE_PUBLIC) {
			CU_ASSERT_PTR_NULL(scopes);
			CU_ASSERT_EQUAL(json_array_size(json_object_get(op, "security")), 0);
		} else {
			CU_ASSERT_EQUAL(json_array_size(scopes), 1);
			CU_ASSERT_STRING_EQUAL(json_string_value(json_array_get(scopes, 0)), SCOPE_NAMES[rt->scope]);
			CU_ASSERT_PTR_NOT_NULL(strstr(desc, SCOPE_NAMES[rt->scope]));
			json_t *resp = json_object_get(op, "responses");
			CU_ASSERT_PTR_NOT_NULL(json_object_get(resp, "401"));
			CU_ASSERT_PTR_NOT_NULL(json_object_get(resp, "403"));
			CU_ASSERT_PTR_NOT_NULL(json_object_get(resp, "429"));
		}
		json_t *body = json_object_get(op, "requestBody");
		if (rt->flags & (ROUTE_BODY | ROUTE_HOOK_BODY | ROUTE_MCP)) {
			CU_ASSERT_TRUE(json_is_true(json_object_get(body, "required")));
			json_t *resp = json_object_get(op, "responses");
			CU_ASSERT_PTR_NOT_NULL(json_object_get(resp, "400"));
			CU_ASSERT_PTR_NOT_NULL(json_object_get(resp, "413"));
			CU_ASSERT_PTR_NOT_NULL(json_object_get(resp, "415"));
		} else if (rt->flags & ROUTE_BODY_OPTIONAL) {
			CU_ASSERT_PTR_NOT_NULL(body);
			CU_ASSERT_FALSE(json_is_true(json_object_get(body, "required")));
		} else {
			CU_ASSERT_PTR_NULL(body);
		}
		if (rt->flags & ROUTE_MERGE_PATCH)
			CU_ASSERT_PTR_NOT_NULL(
				json_object_get(json_object_get(body, "content"), "application/merge-patch+json"));
	}
}

/* Every operation in the document is a route: nothing is described that does not exist. */
static void test_operations_have_routes(void)
{
	const char *path;
	json_t *item;
	int ops = 0;
	json_object_foreach(json_object_get(doc, "paths"), path, item)
	{
		for (const char *const *m = METHODS; *m; m++) {
			if (!json_object_get(item, *m))
				continue;
			ops++;
			int found = 0;
			for (int i = 0; i < ROUTES_COUNT; i++) {
				char lower[16];
				size_t k = 0;
				for (; ROUTES[i].method[k] && k < sizeof lower - 1; k++)
					lower[k] = (char)tolower((unsigned char)ROUTES[i].method[k]);
				lower[k] = '\0';
				if (strcmp(ROUTES[i].path, path) == 0 && strcmp(lower, *m) == 0)
					found++;
			}
			if (found != 1)
				fprintf(stderr, "\n  operation %s %s matches %d routes\n", *m, path, found);
			CU_ASSERT_EQUAL(found, 1);
		}
	}
	CU_ASSERT_EQUAL(ops, ROUTES_COUNT);
}

/* A parameter object, following a $ref into components. */
static json_t *resolve(json_t *p)
{
	const char *ref = json_string_value(json_object_get(p, "$ref"));
	const char *prefix = "#/components/parameters/";
	if (!ref || strncmp(ref, prefix, strlen(prefix)) != 0)
		return p;
	return json_object_get(json_object_get(json_object_get(doc, "components"), "parameters"), ref + strlen(prefix));
}

/* 1 if the operation (or its path item) declares parameter NAME in IN. */
static int declares(json_t *item, json_t *op, const char *name, const char *in)
{
	json_t *lists[2] = {json_object_get(item, "parameters"), json_object_get(op, "parameters")};
	for (int l = 0; l < 2; l++) {
		size_t i;
		json_t *p;
		json_array_foreach(lists[l], i, p)
		{
			json_t *x = resolve(p);
			const char *n = json_string_value(json_object_get(x, "name"));
			const char *w = json_string_value(json_object_get(x, "in"));
			if (n && w && strcmp(n, name) == 0 && strcmp(w, in) == 0)
				return 1;
		}
	}
	return 0;
}

/* List routes document limit and cursor; every {param} is a declared, required path parameter; allowed
 * query parameters are declared. */
static void test_parameters(void)
{
	for (int i = 0; i < ROUTES_COUNT; i++) {
		const route *rt = &ROUTES[i];
		json_t *op = operation(rt->path, rt->method);
		json_t *item = json_object_get(json_object_get(doc, "paths"), rt->path);
		if (!op)
			continue;
		if (rt->flags & ROUTE_LIST) {
			CU_ASSERT_TRUE(declares(item, op, "limit", "query"));
			CU_ASSERT_TRUE(declares(item, op, "cursor", "query"));
		}
		for (const char *const *q = rt->query; q && *q; q++)
			CU_ASSERT_TRUE(declares(item, op, *q, "query"));
		for (const char *p = strchr(rt->path, '{'); p; p = strchr(p + 1, '{')) {
			const char *end = strchr(p, '}');
			char name[64];
			snprintf(name, sizeof name, "%.*s", (int)(end - p - 1), p + 1);
			if (!declares(item, op, name, "path"))
				fprintf(stderr, "\n  %s %s: path parameter %s is not declared\n", rt->method, rt->path, name);
			CU_ASSERT_TRUE(declares(item, op, name, "path"));
		}
	}
}

int test_openapi_suite(void)
{
	CU_pSuite s = CU_add_suite("openapi", setup, teardown);
	if (!s || !CU_add_test(s, "version and security scheme", test_version) ||
	    !CU_add_test(s, "every route has its operation", test_routes_have_operations) ||
	    !CU_add_test(s, "every operation has its route", test_operations_have_routes) ||
	    !CU_add_test(s, "parameters", test_parameters))
		return -1;
	return 0;
}
