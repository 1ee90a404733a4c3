-- 0114: lab_setting_def (0112, the database's copy of lab/settings.c) gains
-- the sampling switching settings issue 14 added to the C table (ISO 2859-1
-- clause 9); tests/lab/scheme_test.cc compares the two row by row. The
-- regulation data refuse every change but a migration's: the guard trigger
-- is lifted for this statement only, in this transaction.
ALTER TABLE lab_setting_def DISABLE TRIGGER lab_setting_def_fixed;
INSERT INTO lab_setting_def (key, type, default_value, min_v, max_v) VALUES
	('sampling.switch.tighten_rejects', 'int', '2', 1, 32),
	('sampling.switch.tighten_window', 'int', '5', 1, 32),
	('sampling.switch.normal_after_accepts', 'int', '5', 1, 32),
	('sampling.switch.reduced_score', 'int', '30', 1, 1000),
	('sampling.switch.score_ac2', 'int', '3', 0, 100),
	('sampling.switch.score_ac01', 'int', '2', 0, 100),
	('sampling.switch.discontinue_rejects', 'int', '5', 1, 1000);
ALTER TABLE lab_setting_def ENABLE TRIGGER lab_setting_def_fixed;
