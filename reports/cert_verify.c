#include "reports/cert_verify.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/cert_verify_hash.h"

/* Crockford base32: no I, L, O, U, so codes read aloud over the phone survive. */
const char cert_vcode_alphabet[33] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

int cert_verify_code(const char *key, const char *cert_no, int revision, const char *barcode,
		     char out[CERT_VCODE_LEN], struct ml_error *err)
{
	const char *alphabet = cert_vcode_alphabet;
	char msg[160];
	int n = snprintf(msg, sizeof(msg), "%s|%d|%s", cert_no, revision, barcode);
	if (!key || strlen(key) < 32)
		return ml_errorf(
			err, ML_ECONFIG,
			"issuer verification key is missing or shorter than 32 characters");
	if (n < 0 || (size_t)n >= sizeof(msg))
		return ml_errorf(err, ML_EINVAL,
				 "certificate '%s' barcode '%s' too long for a verification code",
				 cert_no, barcode);
	unsigned char mac[CERT_SHA256_LEN];
	cert_hmac_sha256(key, strlen(key), msg, (size_t)n, mac);
	uint64_t bits = 0;
	for (int i = 0; i < 5; i++)
		bits = bits << 8 | mac[i];
	for (int i = 0, o = 0; i < 8; i++) {
		if (i == 4)
			out[o++] = '-';
		out[o++] = alphabet[(bits >> (35 - 5 * i)) & 31];
	}
	out[9] = '\0';
	return ML_OK;
}

int cert_qr_payload(const char *cert_no, int revision, const char *barcode, const char *code,
		    char *out, size_t len, struct ml_error *err)
{
	int n = snprintf(out, len, CERT_QR_PREFIX ";NO=%s;REV=%d;BC=%s;VC=%s", cert_no, revision,
			 barcode, code);
	if (n < 0 || (size_t)n >= len)
		return ml_errorf(err, ML_EINVAL, "QR payload for %s does not fit in %zu bytes",
				 cert_no, len);
	return ML_OK;
}

/* Copy the value of "KEY=" up to ';' or end into dst. */
static int field(const char *p, const char *end, const char *key, char *dst, size_t dlen)
{
	size_t kl = strlen(key);
	for (const char *s = p; s + kl <= end; s++) {
		if ((s == p || s[-1] == ';') && !memcmp(s, key, kl)) {
			const char *v = s + kl, *e = v;
			while (e < end && *e != ';')
				e++;
			if ((size_t)(e - v) >= dlen || e == v)
				return -1;
			memcpy(dst, v, (size_t)(e - v));
			dst[e - v] = '\0';
			return 0;
		}
	}
	return -1;
}

/* The verification URL form (0251): ".../verify/NUMBER?code=CODE[&...]". */
static int parse_url(const char *p, const char *end, struct cert_claim *out)
{
	const char *q = memchr(p, '?', (size_t)(end - p));
	if (!q)
		return -1;
	const char *no = NULL;
	for (const char *s = p; s + 8 <= q; s++)
		if (!memcmp(s, "/verify/", 8))
			no = s + 8;
	if (!no || no == q || (size_t)(q - no) >= sizeof(out->cert_no))
		return -1;
	for (const char *s = no; s < q; s++)
		if (!isalnum((unsigned char)*s) && *s != '-')
			return -1;
	memcpy(out->cert_no, no, (size_t)(q - no));
	for (const char *s = q + 1; s < end;) {
		const char *e = memchr(s, '&', (size_t)(end - s));
		if (!e)
			e = end;
		if (e - s > 5 && !memcmp(s, "code=", 5)) {
			if ((size_t)(e - s - 5) >= sizeof(out->code))
				return -1;
			memcpy(out->code, s + 5, (size_t)(e - s - 5));
			out->revision = -1;
			return 0;
		}
		s = e < end ? e + 1 : end;
	}
	return -1;
}

int cert_qr_parse(const char *payload, size_t len, struct cert_claim *out, struct ml_error *err)
{
	memset(out, 0, sizeof(*out));
	if ((len > 7 && !memcmp(payload, "http://", 7)) ||
	    (len > 8 && !memcmp(payload, "https://", 8))) {
		if (parse_url(payload, payload + len, out)) {
			memset(out, 0, sizeof(*out));
			return ml_errorf(err, ML_EINVAL,
					 "'%.*s' is not a meterlab certificate verification URL "
					 "(…/verify/NUMBER?code=CODE)",
					 (int)(len > 120 ? 120 : len), payload);
		}
		return ML_OK;
	}
	const char *end = payload + len;
	size_t pl = strlen(CERT_QR_PREFIX ";");
	char rev[12];
	if (len < pl || memcmp(payload, CERT_QR_PREFIX ";", pl) ||
	    field(payload + pl, end, "NO=", out->cert_no, sizeof(out->cert_no)) ||
	    field(payload + pl, end, "REV=", rev, sizeof(rev)) ||
	    field(payload + pl, end, "BC=", out->barcode, sizeof(out->barcode)) ||
	    field(payload + pl, end, "VC=", out->code, sizeof(out->code)))
		return ml_errorf(err, ML_EINVAL, "'%.*s' is not a meterlab certificate QR payload",
				 (int)(len > 80 ? 80 : len), payload);
	char *e = NULL;
	long r = strtol(rev, &e, 10);
	if (*e || r < 0 || r > 9999)
		return ml_errorf(err, ML_EINVAL, "QR payload revision '%s' is not a number", rev);
	out->revision = (int)r;
	return ML_OK;
}

/* A payload starting at pdf + i, up to the first byte that cannot be in one. */
static int claim_at(const unsigned char *pdf, size_t len, size_t i, struct cert_claim *claim)
{
	size_t e = i;
	while (e < len && e - i < 200 && pdf[e] >= 0x21 && pdf[e] < 0x7f && pdf[e] != ')' &&
	       pdf[e] != '>')
		e++;
	struct ml_error ignore = ML_ERROR_INIT;
	return !cert_qr_parse((const char *)pdf + i, e - i, claim, &ignore);
}

/* The renderer puts the QR payload into the document information
 * /Keywords as a plain literal string "(MLCERT1;NO=…)"; that entry is
 * preferred (the QR code itself is an image of modules, not text). A
 * payload elsewhere in the raw bytes (e.g. an edited file that moved the
 * Info dictionary) is the fallback. */
static int find_claim(const unsigned char *pdf, size_t len, struct cert_claim *claim)
{
	const char *pfx = CERT_QR_PREFIX ";", *kw = "/Keywords (" CERT_QR_PREFIX ";";
	size_t pl = strlen(pfx), kl = strlen(kw);
	for (size_t i = 0; i + kl <= len; i++) {
		if (!memcmp(pdf + i, kw, kl) && claim_at(pdf, len, i + kl - pl, claim))
			return 1;
	}
	for (size_t i = 0; i + pl <= len; i++) {
		if (!memcmp(pdf + i, pfx, pl) && claim_at(pdf, len, i, claim))
			return 1;
	}
	return 0;
}

static int hexval(unsigned char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
				      : -1;
}

/* The Info /Title the renderer sets to the certificate number: a literal
 * "(JL2026-000001)" or, with libharu's UTF-8 encoder, UTF-16BE hex
 * "<FEFF004A…>". Only printable ASCII titles are taken as a number. */
static int find_title(const unsigned char *pdf, size_t len, char *out, size_t olen)
{
	const char *key = "/Title";
	size_t kl = strlen(key), o = 0;
	for (size_t i = 0; i + kl < len; i++) {
		if (memcmp(pdf + i, key, kl))
			continue;
		size_t p = i + kl;
		while (p < len && pdf[p] == ' ')
			p++;
		if (p < len && pdf[p] == '(') {
			for (p++; p < len && pdf[p] != ')' && o + 1 < olen; p++)
				out[o++] = (char)pdf[p];
		} else if (p + 5 < len && pdf[p] == '<' && !memcmp(pdf + p + 1, "FEFF", 4)) {
			for (p += 5; p + 4 <= len && pdf[p] != '>' && o + 1 < olen; p += 4) {
				int h[4] = { hexval(pdf[p]), hexval(pdf[p + 1]), hexval(pdf[p + 2]),
					     hexval(pdf[p + 3]) };
				if (h[0] || h[1] || h[2] < 0 || h[3] < 0)
					return 0; /* not ASCII: not one of our numbers */
				out[o++] = (char)(h[2] << 4 | h[3]);
			}
		}
		out[o] = '\0';
		for (size_t k = 0; k < o; k++) {
			if (out[k] < 0x21 || out[k] > 0x7e)
				return 0;
		}
		return o > 0;
	}
	return 0;
}

static int current_of(struct db *db, const struct cert_record *r, struct cert_record *cur,
		      struct ml_error *err)
{
	char ref[64];
	snprintf(ref, sizeof(ref), "%s", r->cert_no);
	/* cert_find by number returns the highest revision; only issued ones count. */
	struct cert_record *list = NULL;
	size_t n = 0;
	struct cert_filter f = { .cert_no = ref, .state = "current" };
	int rc = cert_list(db, &f, &list, &n, err);
	if (!rc && n > 0)
		*cur = list[n - 1];
	free(list);
	return rc;
}

/* out->match is a genuine issued certificate: withdrawn, superseded (and by what) or current. */
static int genuine_status(struct db *db, struct cert_verify_result *out, struct ml_error *err)
{
	if (out->match.withdrawn) {
		out->status = CERT_VERIFY_WITHDRAWN;
		return ML_OK;
	}
	out->status = out->match.superseded_by ? CERT_VERIFY_SUPERSEDED : CERT_VERIFY_CURRENT;
	return out->status == CERT_VERIFY_SUPERSEDED
		       ? current_of(db, &out->match, &out->current, err)
		       : ML_OK;
}

static int lookup_hash(struct db *db, const char *hex, long long *id, struct ml_error *err)
{
	const char *p[1] = { hex };
	PGresult *res = NULL;
	int rc = db_exec(db,
			 "SELECT cert_id FROM cert_pdf WHERE sha256 = $1 ORDER BY cert_id LIMIT 1",
			 1, p, PGRES_TUPLES_OK, &res, err);
	if (rc)
		return rc;
	*id = PQntuples(res) ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : 0;
	PQclear(res);
	return ML_OK;
}

int cert_verify_pdf(struct db *db, const void *pdf, size_t len, struct cert_verify_result *out,
		    struct ml_error *err)
{
	memset(out, 0, sizeof(*out));
	cert_sha256_hex(pdf, len, out->sha256);
	out->has_claim = find_claim(pdf, len, &out->claim);
	long long id = 0;
	int rc = lookup_hash(db, out->sha256, &id, err);
	if (rc)
		return rc;
	if (id) {
		rc = cert_get(db, id, &out->match, err);
		if (rc)
			return rc;
		return genuine_status(db, out, err);
	}
	out->status = CERT_VERIFY_UNKNOWN;
	if (!out->has_claim &&
	    find_title(pdf, len, out->claim.cert_no, sizeof(out->claim.cert_no))) {
		out->has_claim = 1;
		out->claim.revision = -1; /* the title names the number only */
	}
	if (!out->has_claim)
		return ML_OK;
	char ref[64];
	if (out->claim.revision >= 0)
		snprintf(ref, sizeof(ref), "%s/%d", out->claim.cert_no, out->claim.revision);
	else
		snprintf(ref, sizeof(ref), "%s", out->claim.cert_no);
	struct ml_error nf = ML_ERROR_INIT;
	rc = cert_find(db, ref, &out->match, &nf);
	if (rc == ML_OK && out->match.state[0] == 'i')
		out->status = CERT_VERIFY_FORGED;
	else if (rc != ML_ENOTFOUND && rc != ML_EINVAL && rc != ML_OK)
		return ml_errorf(err, rc, "%s", nf.msg);
	if (out->status == CERT_VERIFY_UNKNOWN)
		memset(&out->match, 0, sizeof(out->match));
	return ML_OK;
}

/* Crockford base32 reading: case-insensitive, '-' ignored, I/L read as 1 and O as 0. */
static void normalise_code(const char *in, char *out, size_t len)
{
	size_t o = 0;
	for (; *in && o + 1 < len; in++) {
		char c = *in;
		if (c == '-' || c == ' ')
			continue;
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if (c == 'I' || c == 'L')
			c = '1';
		if (c == 'O')
			c = '0';
		out[o++] = c;
	}
	out[o] = '\0';
}

/* Code (read leniently) and, when given, barcode agree with the issued record r. */
static int claim_matches(const struct cert_claim *claim, const struct cert_record *r)
{
	char given[32], stored[32];
	normalise_code(claim->code, given, sizeof(given));
	normalise_code(r->verify_code, stored, sizeof(stored));
	return !strcmp(given, stored) &&
	       (!claim->barcode[0] || !strcmp(claim->barcode, r->barcode));
}

/*
 * A number without a revision: the latest issued revision's code did not
 * match, so try every issued revision of the number. The original prints
 * no revision, so its holder enters none; a genuine original that was later
 * revised must come out superseded, not forged.
 */
static int match_any_revision(struct db *db, const struct cert_claim *claim,
			      struct cert_record *match, int *found, struct ml_error *err)
{
	struct cert_record *list = NULL;
	size_t n = 0;
	struct cert_filter f = { .cert_no = claim->cert_no, .state = cert_state_name(CERT_ISSUED) };
	*found = 0;
	int rc = cert_list(db, &f, &list, &n, err);
	for (size_t i = 0; i < n && !rc && !*found; i++) {
		if (claim_matches(claim, &list[i])) {
			*match = list[i];
			*found = 1;
		}
	}
	free(list);
	return rc;
}

int cert_verify_claim(struct db *db, const struct cert_claim *claim, struct cert_verify_result *out,
		      struct ml_error *err)
{
	memset(out, 0, sizeof(*out));
	out->has_claim = 1;
	out->claim = *claim;
	out->status = CERT_VERIFY_UNKNOWN;
	char ref[64];
	if (claim->revision >= 0)
		snprintf(ref, sizeof(ref), "%s/%d", claim->cert_no, claim->revision);
	else
		snprintf(ref, sizeof(ref), "%s", claim->cert_no);
	struct ml_error nf = ML_ERROR_INIT;
	int rc = cert_find(db, ref, &out->match, &nf);
	if (rc == ML_ENOTFOUND || rc == ML_EINVAL ||
	    (rc == ML_OK && out->match.st != CERT_ISSUED)) {
		memset(&out->match, 0, sizeof(out->match));
		return ML_OK;
	}
	if (rc)
		return ml_errorf(err, rc, "%s", nf.msg);
	if (claim_matches(claim, &out->match))
		return genuine_status(db, out, err);
	out->status = CERT_VERIFY_FORGED;
	if (claim->revision >= 0)
		return ML_OK;
	int found = 0;
	rc = match_any_revision(db, claim, &out->match, &found, err);
	if (rc)
		return rc;
	if (!found)
		return ML_OK;
	return genuine_status(db, out, err);
}

const char *cert_verify_status_name(int status)
{
	switch (status) {
	case CERT_VERIFY_CURRENT:
		return "current";
	case CERT_VERIFY_SUPERSEDED:
		return "superseded";
	case CERT_VERIFY_FORGED:
		return "forged";
	case CERT_VERIFY_WITHDRAWN:
		return "withdrawn";
	default:
		return "unknown";
	}
}
