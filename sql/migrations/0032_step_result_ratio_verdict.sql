-- CT/VT steps judge two quantities: ratio error (limit_e4) and phase
-- displacement (limit2_e4, verdict2). run_step_result.verdict is the step's
-- combined verdict, so the per-item conclusion 'ratio' (printed on the
-- certificate as 比值差) could not be told apart from it: a transformer whose
-- ratio error passed but whose phase displacement failed got 'ratio' = fail.
-- verdict1 keeps the ratio-only verdict; 'none' on other steps and on rows
-- written before this migration (those fold as before, from verdict).
ALTER TABLE run_step_result
	ADD COLUMN verdict1 text NOT NULL DEFAULT 'none' CHECK (verdict1 IN ('none', 'pass', 'fail'));
