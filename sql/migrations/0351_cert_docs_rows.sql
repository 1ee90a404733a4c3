-- 0351 (issue 10): the functions that make certificate documents say they
-- return one row.
--
-- Why: the client now takes each document apart in the statement that
-- makes it (reports/cert_store.c, cert_content_query: one round trip for N
-- documents, not N + 1). That statement joins the documents laterally with
-- jsonb_array_elements and jsonb_each_text, which the planner estimates at
-- 100 rows each: at the default ROWS 1000 of a set-returning function the
-- statement was estimated at 40 million rows, cost 13 million, far over
-- jit_above_cost (100 000), so every approval would have compiled the
-- statement (issue 10 measured the same trap at 16–17 certificates/s).
-- With ROWS 1 its cost is 6 800, the same as parsing one document given as
-- a parameter did before. No plan choice depends on this estimate: the
-- statement is nested loops over function scans whatever it is, and the
-- draft's INSERT … SELECT from ml_cert_run_docs is an anti-join by index
-- on certificate either way. An approval of 200 certificates is
-- underestimated, harmlessly; one of a thousand must not compile JIT code.
ALTER FUNCTION ml_cert_issue_begin(bigint[]) ROWS 1;
ALTER FUNCTION ml_cert_run_docs(bigint) ROWS 1;
