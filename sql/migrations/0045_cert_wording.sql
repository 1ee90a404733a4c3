-- 0045: Chinese wording of the runner's notes on certificates and result
-- notices (reports/cert_source.c).
--
-- The runner stores why a position could not be judged as an English note
-- in run_step_result.note (lab/runner.c fault_note/observe, lab/manual.c);
-- a certificate is a legal document read by customers and auditors, so
-- what it prints is the metrology wording, never the internal note. The
-- stored note stays untouched in the original record.

-- Certificate wording of one note: '' for notes that are no finding
-- ('' and 'manual', which marks every step of a manual verification).
-- Unknown notes (e.g. a judge error message) print as a generic Chinese
-- statement pointing to the original record, never as raw English.
CREATE FUNCTION cert_note_text(note text) RETURNS text
	LANGUAGE sql IMMUTABLE STRICT
	RETURN CASE note
		WHEN '' THEN ''
		WHEN 'manual' THEN ''
		WHEN 'no pulses from the meter' THEN '无脉冲输出'
		WHEN 'unstable pulses' THEN '脉冲输出不稳定'
		WHEN 'wiring fault' THEN '接线故障'
		WHEN 'meter communication fault' THEN '通信故障'
		WHEN 'position fault' THEN '表位故障'
		WHEN 'no device present at the position' THEN '表位无被检器具'
		ELSE '未能判定（见原始记录）' END;

-- Element of a basic-error point as printed (lab/scheme.c point_element_text:
-- H = all elements together 合元, A/B/C = one element 分元).
CREATE FUNCTION cert_element_text(e text) RETURNS text
	LANGUAGE sql IMMUTABLE STRICT
	RETURN CASE WHEN e = 'H' THEN '合元' WHEN e IN ('A', 'B', 'C') THEN e || '元' ELSE e END;
