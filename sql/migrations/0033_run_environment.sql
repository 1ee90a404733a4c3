-- 0033: ambient conditions of a verification run.
-- A certificate's inner page states the place and the environmental
-- conditions of the verification (JJF 1069-2012 inner page; ISO/IEC 17025
-- 7.8.4.1 b; domain.md §6.1). The technician records them when the task is
-- created; NULL means "not recorded" and prints as "—".
-- Ranges: JJG 596 verification rooms are kept around 20 ℃ and well under
-- 85 %RH; the checks only refuse values that cannot be a lab reading.
ALTER TABLE verification_run
	ADD COLUMN ambient_temp_c numeric(4,1) CHECK (ambient_temp_c BETWEEN -20 AND 60),
	ADD COLUMN ambient_rh_pct numeric(4,1) CHECK (ambient_rh_pct BETWEEN 0 AND 100);
