/* davxml: a hand-written, bounded XML reader for DAV:multistatus documents (no XML library is used). */
#include "davxml.h"

#include "sbuf.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define NS_DAV "DAV:"
#define NS_CALDAV "urn:ietf:params:xml:ns:caldav"
#define NS_XML "http://www.w3.org/XML/1998/namespace"

/* What an open element means to the multistatus reader (by its resolved namespace and local name). */
enum dav_role { ROLE_OTHER, ROLE_MULTISTATUS, ROLE_RESPONSE, ROLE_HREF, ROLE_PROPSTAT, ROLE_STATUS, ROLE_PROP, ROLE_DATA };

struct dav_ns {
	const char *prefix; /* points into the document; NULL for the default namespace */
	size_t prefix_len;
	char *uri;          /* decoded, arena; "" undeclares a default namespace */
};

struct dav_elem {
	const char *qname; /* into the document, for matching the end tag */
	size_t qname_len;
	int ns_mark;       /* the namespace stack's height before this element's declarations */
	enum dav_role role;
};

struct dav_parser {
	arena *a;
	const char *s;
	size_t len, pos;
	struct dav_ns ns[DAVXML_MAX_NAMESPACES];
	int nns;
	struct dav_elem st[DAVXML_MAX_DEPTH];
	int depth;
	int root_done;
	char *err;
	size_t errlen;
	/* multistatus state */
	sbuf text;              /* the text of the open href, status or calendar-data element */
	char *href, *resp_data; /* the current response's */
	char *ps_status, *ps_data;
	size_t resp_len, ps_len;
	int resp_status;        /* a response-level status, 0 when none */
	davxml_item *items;
	int nitems, cap, max;
};

static int dav_fail(struct dav_parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int dav_fail(struct dav_parser *p, const char *fmt, ...)
{
	if (p->err && p->errlen && !p->err[0]) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(p->err, p->errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int starts(const struct dav_parser *p, const char *lit)
{
	size_t n = strlen(lit);
	return p->len - p->pos >= n && memcmp(p->s + p->pos, lit, n) == 0;
}

/* Index of LIT at or after P->pos, or -1. */
static long find(const struct dav_parser *p, const char *lit)
{
	size_t n = strlen(lit);
	for (size_t i = p->pos; i + n <= p->len; i++)
		if (p->s[i] == lit[0] && memcmp(p->s + i, lit, n) == 0)
			return (long)i;
	return -1;
}

static void put_utf8(sbuf *b, unsigned long cp)
{
	char u[4];
	size_t n;
	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xC0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xE0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		u[0] = (char)(0xF0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	sbuf_raw(b, u, n);
}

/* Appends the N bytes at S to OUT with character references decoded (XML 1.0 sections 4.1 and 4.6). */
static int decode(struct dav_parser *p, const char *s, size_t n, sbuf *out)
{
	static const struct {
		const char *name;
		char c;
	} named[] = {{"lt", '<'}, {"gt", '>'}, {"amp", '&'}, {"quot", '"'}, {"apos", '\''}};
	size_t i = 0;
	while (i < n) {
		const char *amp = memchr(s + i, '&', n - i);
		size_t run = amp ? (size_t)(amp - (s + i)) : n - i;
		if (run)
			sbuf_raw(out, s + i, run);
		i += run;
		if (!amp)
			break;
		const char *semi = memchr(s + i, ';', n - i < 12 ? n - i : 12);
		if (!semi)
			return dav_fail(p, "an '&' does not start a character reference");
		const char *name = s + i + 1;
		size_t nl = (size_t)(semi - name);
		int done = 0;
		if (nl >= 2 && name[0] == '#') {
			unsigned long cp = 0;
			int hex = name[1] == 'x';
			size_t k = hex ? 2 : 1;
			if (k >= nl)
				return dav_fail(p, "an empty numeric character reference");
			for (; k < nl; k++) {
				char c = name[k];
				int v = c >= '0' && c <= '9' ? c - '0'
					: hex && c >= 'a' && c <= 'f' ? c - 'a' + 10
					: hex && c >= 'A' && c <= 'F' ? c - 'A' + 10
									: -1;
				if (v < 0)
					return dav_fail(p, "a malformed numeric character reference");
				cp = cp * (hex ? 16 : 10) + (unsigned long)v;
				if (cp > 0x10FFFF)
					return dav_fail(p, "a character reference beyond U+10FFFF");
			}
			/* XML's Char production: no NUL, no other C0 controls but tab/LF/CR, no surrogates, no FFFE/FFFF. */
			if ((cp < 0x20 && cp != 0x9 && cp != 0xA && cp != 0xD) || (cp >= 0xD800 && cp <= 0xDFFF) ||
			    cp == 0xFFFE || cp == 0xFFFF)
				return dav_fail(p, "a character reference to a character XML does not allow");
			put_utf8(out, cp);
			done = 1;
		} else {
			for (size_t k = 0; k < sizeof named / sizeof named[0]; k++)
				if (strlen(named[k].name) == nl && memcmp(named[k].name, name, nl) == 0) {
					sbuf_raw(out, &named[k].c, 1);
					done = 1;
				}
		}
		if (!done)
			return dav_fail(p, "an unknown entity '&%.*s;'", (int)(nl < 20 ? nl : 20), name);
		i = (size_t)(semi - s) + 1;
	}
	return 0;
}

static int name_char(char c)
{
	return !(is_space(c) || c == '/' || c == '>' || c == '=' || c == '<' || c == '"' || c == '\'' || c == '&' ||
		 c == '\0');
}

/* Reads a name at P->pos (into the document: *NAME, *NL). */
static int read_name(struct dav_parser *p, const char **name, size_t *nl)
{
	size_t st = p->pos;
	while (p->pos < p->len && name_char(p->s[p->pos]))
		p->pos++;
	*name = p->s + st;
	*nl = p->pos - st;
	if (*nl == 0)
		return dav_fail(p, "a name is missing at byte %zu", st);
	if (*nl > DAVXML_MAX_NAME)
		return dav_fail(p, "a name is longer than %d bytes", DAVXML_MAX_NAME);
	if ((*name)[0] == ':' || (*name)[*nl - 1] == ':' || (*name)[0] == '-' || (*name)[0] == '.' ||
	    ((*name)[0] >= '0' && (*name)[0] <= '9'))
		return dav_fail(p, "'%.*s' is not a valid name", (int)(*nl < 40 ? *nl : 40), *name);
	return 0;
}

static void skip_space(struct dav_parser *p)
{
	while (p->pos < p->len && is_space(p->s[p->pos]))
		p->pos++;
}

/* The namespace URI of the prefix of QNAME (default namespace when unprefixed; attributes pass
 * IS_ATTR: unprefixed attributes are in no namespace). NULL when the prefix is not declared. */
static const char *resolve(const struct dav_parser *p, const char *qname, size_t ql, int is_attr)
{
	const char *colon = memchr(qname, ':', ql);
	size_t pl = colon ? (size_t)(colon - qname) : 0;
	if (!colon && is_attr)
		return "";
	if (colon && pl == 3 && memcmp(qname, "xml", 3) == 0)
		return NS_XML;
	for (int i = p->nns - 1; i >= 0; i--) {
		const struct dav_ns *b = &p->ns[i];
		if (!colon && !b->prefix)
			return b->uri;
		if (colon && b->prefix && b->prefix_len == pl && memcmp(b->prefix, qname, pl) == 0)
			return b->uri;
	}
	return colon ? NULL : "";
}

static int is_name(const char *uri, const char *qname, size_t ql, const char *want_uri, const char *want_local)
{
	const char *colon = memchr(qname, ':', ql);
	const char *local = colon ? colon + 1 : qname;
	size_t ll = ql - (size_t)(local - qname);
	return strcmp(uri, want_uri) == 0 && strlen(want_local) == ll && memcmp(local, want_local, ll) == 0;
}

/* The role of element QNAME (namespace URI) opened inside an element of role PARENT. */
static enum dav_role role_of(enum dav_role parent, int depth, const char *uri, const char *q, size_t ql)
{
	if (depth == 0)
		return is_name(uri, q, ql, NS_DAV, "multistatus") ? ROLE_MULTISTATUS : ROLE_OTHER;
	switch (parent) {
	case ROLE_MULTISTATUS:
		return is_name(uri, q, ql, NS_DAV, "response") ? ROLE_RESPONSE : ROLE_OTHER;
	case ROLE_RESPONSE:
		return is_name(uri, q, ql, NS_DAV, "href")       ? ROLE_HREF
		       : is_name(uri, q, ql, NS_DAV, "propstat") ? ROLE_PROPSTAT
		       : is_name(uri, q, ql, NS_DAV, "status")   ? ROLE_STATUS
								 : ROLE_OTHER;
	case ROLE_PROPSTAT:
		return is_name(uri, q, ql, NS_DAV, "prop")     ? ROLE_PROP
		       : is_name(uri, q, ql, NS_DAV, "status") ? ROLE_STATUS
							       : ROLE_OTHER;
	case ROLE_PROP:
		return is_name(uri, q, ql, NS_CALDAV, "calendar-data") ? ROLE_DATA : ROLE_OTHER;
	default:
		return ROLE_OTHER;
	}
}

/* The code of an HTTP status line ("HTTP/1.1 200 OK"), or 0. */
static int status_code(const char *line)
{
	const char *sp = line ? strchr(line, ' ') : NULL;
	if (!sp || !(sp[1] >= '1' && sp[1] <= '5') || !(sp[2] >= '0' && sp[2] <= '9') || !(sp[3] >= '0' && sp[3] <= '9'))
		return 0;
	return (sp[1] - '0') * 100 + (sp[2] - '0') * 10 + (sp[3] - '0');
}

static char *take_text(struct dav_parser *p, size_t *n)
{
	char *t = arena_strndup(p->a, p->text.buf, p->text.len);
	if (n)
		*n = p->text.len;
	return t;
}

static void trim(char *s)
{
	size_t n = strlen(s), st = 0;
	while (n > 0 && is_space(s[n - 1]))
		s[--n] = '\0';
	while (is_space(s[st]))
		st++;
	memmove(s, s + st, n - st + 1);
}

/* The end of an element of role R: what it contributes to its response. */
static int close_role(struct dav_parser *p, enum dav_role r, enum dav_role parent)
{
	switch (r) {
	case ROLE_HREF:
		if (!p->href) {
			p->href = take_text(p, NULL);
			trim(p->href);
		}
		break;
	case ROLE_STATUS: {
		char *t = take_text(p, NULL);
		trim(t);
		if (parent == ROLE_PROPSTAT)
			p->ps_status = t;
		else
			p->resp_status = status_code(t);
		break;
	}
	case ROLE_DATA:
		p->ps_data = take_text(p, &p->ps_len);
		break;
	case ROLE_PROPSTAT:
		if (p->ps_data) {
			int code = status_code(p->ps_status);
			if (!p->ps_status)
				return dav_fail(p, "a propstat has no status");
			if (code >= 200 && code <= 299 && !p->resp_data) {
				p->resp_data = p->ps_data;
				p->resp_len = p->ps_len;
			}
		}
		p->ps_data = p->ps_status = NULL;
		break;
	case ROLE_RESPONSE:
		if (p->resp_data && (p->resp_status == 0 || (p->resp_status >= 200 && p->resp_status <= 299))) {
			if (p->nitems >= p->max)
				return dav_fail(p, "the answer has more than %d calendar objects", p->max);
			if (p->nitems == p->cap) {
				int cap = p->cap ? p->cap * 2 : 16;
				davxml_item *ni = arena_alloc(p->a, (size_t)cap * sizeof *ni);
				if (p->nitems)
					memcpy(ni, p->items, (size_t)p->nitems * sizeof *ni);
				p->items = ni;
				p->cap = cap;
			}
			davxml_item *it = &p->items[p->nitems++];
			it->href = p->href;
			it->calendar_data = p->resp_data;
			it->data_len = p->resp_len;
		}
		p->href = p->resp_data = NULL;
		p->resp_len = 0;
		p->resp_status = 0;
		break;
	default:
		break;
	}
	return 0;
}

static int capturing(const struct dav_parser *p)
{
	if (p->depth == 0)
		return 0;
	enum dav_role r = p->st[p->depth - 1].role;
	return r == ROLE_HREF || r == ROLE_STATUS || r == ROLE_DATA;
}

static int start_tag(struct dav_parser *p)
{
	const char *q, *an;
	size_t ql, al;
	struct {
		const char *name, *val;
		size_t nl, vl;
	} attrs[DAVXML_MAX_ATTRIBUTES];
	int na = 0;

	if (p->root_done)
		return dav_fail(p, "content after the document element");
	if (p->depth == DAVXML_MAX_DEPTH)
		return dav_fail(p, "elements are nested deeper than %d", DAVXML_MAX_DEPTH);
	p->pos++; /* '<' */
	if (read_name(p, &q, &ql) != 0)
		return -1;
	int ns_mark = p->nns, empty = 0;
	for (;;) {
		int had_space = p->pos < p->len && is_space(p->s[p->pos]);
		skip_space(p);
		if (p->pos >= p->len)
			return dav_fail(p, "the document ends inside a tag");
		if (p->s[p->pos] == '>') {
			p->pos++;
			break;
		}
		if (starts(p, "/>")) {
			p->pos += 2;
			empty = 1;
			break;
		}
		if (!had_space)
			return dav_fail(p, "attributes must be separated by white space");
		if (read_name(p, &an, &al) != 0)
			return -1;
		skip_space(p);
		if (p->pos >= p->len || p->s[p->pos] != '=')
			return dav_fail(p, "an attribute has no value");
		p->pos++;
		skip_space(p);
		if (p->pos >= p->len || (p->s[p->pos] != '"' && p->s[p->pos] != '\''))
			return dav_fail(p, "an attribute value is not quoted");
		char quote = p->s[p->pos++];
		const char *end = memchr(p->s + p->pos, quote, p->len - p->pos);
		if (!end)
			return dav_fail(p, "the document ends inside an attribute value");
		const char *v = p->s + p->pos;
		size_t vl = (size_t)(end - v);
		if (memchr(v, '<', vl))
			return dav_fail(p, "'<' in an attribute value");
		p->pos = (size_t)(end - p->s) + 1;
		if (na == DAVXML_MAX_ATTRIBUTES)
			return dav_fail(p, "an element has more than %d attributes", DAVXML_MAX_ATTRIBUTES);
		for (int i = 0; i < na; i++)
			if (attrs[i].nl == al && memcmp(attrs[i].name, an, al) == 0)
				return dav_fail(p, "a repeated attribute '%.*s'", (int)(al < 40 ? al : 40), an);
		attrs[na].name = an;
		attrs[na].nl = al;
		attrs[na].val = v;
		attrs[na].vl = vl;
		na++;
		/* Namespace declarations take effect for this element itself, whatever their order. */
		int dflt = al == 5 && memcmp(an, "xmlns", 5) == 0;
		if (dflt || (al > 6 && memcmp(an, "xmlns:", 6) == 0)) {
			if (p->nns == DAVXML_MAX_NAMESPACES)
				return dav_fail(p, "more than %d namespace declarations in scope", DAVXML_MAX_NAMESPACES);
			sbuf u;
			sbuf_init(&u, p->a, vl + 1);
			if (decode(p, v, vl, &u) != 0)
				return -1;
			if (!dflt && u.len == 0)
				return dav_fail(p, "a namespace prefix cannot be undeclared");
			struct dav_ns *b = &p->ns[p->nns++];
			b->prefix = dflt ? NULL : an + 6;
			b->prefix_len = dflt ? 0 : al - 6;
			b->uri = u.buf;
		}
	}
	/* Attribute values are decoded only to be checked: the multistatus reader uses none but xmlns. */
	for (int i = 0; i < na; i++) {
		int decl = (attrs[i].nl == 5 && memcmp(attrs[i].name, "xmlns", 5) == 0) ||
			   (attrs[i].nl > 6 && memcmp(attrs[i].name, "xmlns:", 6) == 0);
		if (!decl && !resolve(p, attrs[i].name, attrs[i].nl, 1))
			return dav_fail(p, "an attribute's namespace prefix is not declared");
		sbuf scratch;
		sbuf_init(&scratch, p->a, 16);
		if (!decl && decode(p, attrs[i].val, attrs[i].vl, &scratch) != 0)
			return -1;
	}
	const char *uri = resolve(p, q, ql, 0);
	if (!uri)
		return dav_fail(p, "the namespace prefix of '%.*s' is not declared", (int)(ql < 40 ? ql : 40), q);
	enum dav_role parent = p->depth ? p->st[p->depth - 1].role : ROLE_OTHER;
	enum dav_role role = role_of(parent, p->depth, uri, q, ql);
	if (p->depth == 0 && role != ROLE_MULTISTATUS)
		return dav_fail(p, "the answer is not a DAV:multistatus document");
	struct dav_elem *e = &p->st[p->depth++];
	e->qname = q;
	e->qname_len = ql;
	e->ns_mark = ns_mark;
	e->role = role;
	if (role == ROLE_HREF || role == ROLE_STATUS || role == ROLE_DATA)
		sbuf_init(&p->text, p->a, 256);
	if (empty) {
		p->depth--;
		p->nns = ns_mark;
		if (close_role(p, role, parent) != 0)
			return -1;
		if (p->depth == 0)
			p->root_done = 1;
	}
	return 0;
}

static int end_tag(struct dav_parser *p)
{
	const char *q;
	size_t ql;
	p->pos += 2; /* "</" */
	if (read_name(p, &q, &ql) != 0)
		return -1;
	skip_space(p);
	if (p->pos >= p->len || p->s[p->pos] != '>')
		return dav_fail(p, "a malformed end tag");
	p->pos++;
	if (p->depth == 0)
		return dav_fail(p, "an end tag without a start tag");
	struct dav_elem *e = &p->st[p->depth - 1];
	if (e->qname_len != ql || memcmp(e->qname, q, ql) != 0)
		return dav_fail(p, "the end tag '%.*s' does not match '%.*s'", (int)(ql < 40 ? ql : 40), q,
				(int)(e->qname_len < 40 ? e->qname_len : 40), e->qname);
	p->depth--;
	p->nns = e->ns_mark;
	if (close_role(p, e->role, p->depth ? p->st[p->depth - 1].role : ROLE_OTHER) != 0)
		return -1;
	if (p->depth == 0)
		p->root_done = 1;
	return 0;
}

static int text_run(struct dav_parser *p)
{
	const char *lt = memchr(p->s + p->pos, '<', p->len - p->pos);
	size_t n = lt ? (size_t)(lt - (p->s + p->pos)) : p->len - p->pos;
	const char *t = p->s + p->pos;
	p->pos += n;
	if (p->depth == 0) {
		for (size_t i = 0; i < n; i++)
			if (!is_space(t[i]))
				return dav_fail(p, "text outside the document element");
		return 0;
	}
	for (size_t i = 0; i + 2 < n; i++)
		if (t[i] == ']' && t[i + 1] == ']' && t[i + 2] == '>')
			return dav_fail(p, "']]>' in text");
	if (capturing(p))
		return decode(p, t, n, &p->text);
	sbuf scratch;
	sbuf_init(&scratch, p->a, 16);
	return memchr(t, '&', n) ? decode(p, t, n, &scratch) : 0;
}

int davxml_multistatus(arena *a, const char *xml, size_t len, int max_items, davxml_item **items, int *n, char *err,
		       size_t errlen)
{
	static struct dav_parser zero;
	struct dav_parser *p = arena_alloc(a, sizeof *p);
	*p = zero;
	p->a = a;
	p->s = xml;
	p->len = len;
	p->err = err;
	p->errlen = errlen;
	p->max = max_items;
	if (err && errlen)
		err[0] = '\0';
	*items = NULL;
	*n = 0;
	if (len > DAVXML_MAX_BYTES)
		return dav_fail(p, "the answer is larger than %zu bytes", DAVXML_MAX_BYTES);
	if (util_utf8_length(xml, len) < 0)
		return dav_fail(p, "the answer is not valid UTF-8");
	if (starts(p, "\xEF\xBB\xBF"))
		p->pos = 3;
	while (p->pos < p->len) {
		int rc;
		if (p->s[p->pos] != '<') {
			rc = text_run(p);
		} else if (starts(p, "<?")) {
			long e = find(p, "?>");
			if (e < 0)
				return dav_fail(p, "an unterminated processing instruction");
			p->pos = (size_t)e + 2;
			rc = 0;
		} else if (starts(p, "<!--")) {
			p->pos += 4;
			long e = find(p, "-->");
			if (e < 0)
				return dav_fail(p, "an unterminated comment");
			p->pos = (size_t)e + 3;
			rc = 0;
		} else if (starts(p, "<![CDATA[")) {
			if (p->depth == 0)
				return dav_fail(p, "CDATA outside the document element");
			p->pos += 9;
			long e = find(p, "]]>");
			if (e < 0)
				return dav_fail(p, "an unterminated CDATA section");
			if (capturing(p))
				sbuf_raw(&p->text, p->s + p->pos, (size_t)e - p->pos);
			p->pos = (size_t)e + 3;
			rc = 0;
		} else if (starts(p, "<!")) {
			return dav_fail(p, "document type declarations are not accepted");
		} else if (starts(p, "</")) {
			rc = end_tag(p);
		} else {
			rc = start_tag(p);
		}
		if (rc != 0)
			return -1;
	}
	if (!p->root_done)
		return dav_fail(p, p->depth ? "the answer ends inside an element" : "the answer is empty");
	*items = p->items;
	*n = p->nitems;
	return 0;
}
