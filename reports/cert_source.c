/*
 * cert_source.c — the documents of a finished run, as the database builds
 * them (ml_cert_run_docs, 0141), and drafting them (ml_cert_draft).
 */
#include "reports/cert_source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/cert_store.h"

struct src_doc {
	long long asset_id;
	struct cert_content *content;
};

struct cert_source {
	struct src_doc *docs;
	size_t n;
};

size_t cert_source_count(const struct cert_source *s)
{
	return s->n;
}

const struct cert_doc *cert_source_doc(const struct cert_source *s, size_t i)
{
	return i < s->n ? cert_content_doc(s->docs[i].content) : NULL;
}

long long cert_source_asset(const struct cert_source *s, size_t i)
{
	return i < s->n ? s->docs[i].asset_id : 0;
}

void cert_source_free(struct cert_source *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		cert_content_free(s->docs[i].content);
	free(s->docs);
	free(s);
}

/* ML_ENOTFOUND for an unknown run, ML_ESTATE naming why its certificates cannot be made. */
static int run_ready(struct db *db, const char *rid, struct ml_error *err)
{
	const char *p[1] = { rid };
	PGresult *res = NULL;
	int rc = db_exec(
		db,
		"SELECT ml_cert_run_problem(run_id) FROM verification_run WHERE run_id = $1::bigint",
		1, p, PGRES_TUPLES_OK, &res, err);
	if (rc)
		return rc;
	if (PQntuples(res) == 0)
		rc = ml_errorf(err, ML_ENOTFOUND, "run %s not found", rid);
	else if (!PQgetisnull(res, 0, 0))
		rc = ml_errorf(err, ML_ESTATE, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return rc;
}

const char cert_run_docs_sql[] =
	"SELECT pos::bigint, asset_id, content FROM ml_cert_run_docs($1::bigint)";

int cert_source_load(struct db *db, long long run_id, struct cert_source **out,
		     struct ml_error *err)
{
	*out = NULL;
	char rid[24];
	snprintf(rid, sizeof(rid), "%lld", run_id);
	const char *p[1] = { rid };
	struct cert_content **docs = NULL;
	long long *assets = NULL;
	size_t n = 0;
	int rc = run_ready(db, rid, err);
	if (!rc)
		rc = cert_content_query(db, cert_run_docs_sql, 1, p, &docs, &assets, &n, err);
	if (rc)
		return rc == ML_ENOTFOUND || rc == ML_ESTATE
			       ? rc
			       : ml_error_prefix(err,
						 "loading run %lld for certificates: ", run_id);
	struct cert_source *s = calloc(1, sizeof(*s));
	if (s)
		s->docs = calloc(n ? n : 1, sizeof(*s->docs));
	for (size_t i = 0; i < n; i++) {
		if (s && s->docs)
			s->docs[s->n++] = (struct src_doc){ assets[i], docs[i] };
		else
			cert_content_free(docs[i]);
	}
	free(docs);
	free(assets);
	if (!s || !s->docs) {
		free(s);
		return ml_errorf(err, ML_ENOMEM, "out of memory for run %lld's %zu documents",
				 run_id, n);
	}
	*out = s;
	return ML_OK;
}

int cert_source_drafts(struct db *db, long long run_id, const char *issuer_id, long long **ids,
		       size_t *n, size_t *created, struct ml_error *err)
{
	*ids = NULL;
	*n = 0;
	*created = 0;
	char rid[24];
	snprintf(rid, sizeof(rid), "%lld", run_id);
	const char *p[2] = { rid, issuer_id };
	PGresult *res = NULL;
	/* One statement: ml_cert_draft creates every missing draft or none. */
	int rc = db_exec(db, "SELECT cert_id, created FROM ml_cert_draft($1::bigint, $2)", 2, p,
			 PGRES_TUPLES_OK, &res, err);
	if (rc)
		return rc;
	size_t m = (size_t)PQntuples(res);
	*ids = calloc(m ? m : 1, sizeof(**ids));
	if (!*ids) {
		PQclear(res);
		return ml_errorf(err, ML_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < m; i++) {
		(*ids)[i] = strtoll(PQgetvalue(res, (int)i, 0), NULL, 10);
		*created += PQgetvalue(res, (int)i, 1)[0] == 't';
	}
	*n = m;
	PQclear(res);
	return ML_OK;
}
