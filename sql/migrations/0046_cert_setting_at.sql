-- 0046: the value a lab setting had at a given time (reports/cert_source.c
-- prints the creep and starting pulse limits a run was judged with).
--
-- lab_setting_log records every change (old and new value, NULL = the
-- default). The value at `at` is the new value of the last change before
-- it, else the old value of the first change after it, else the current
-- row, else the default `dflt` (lab/settings.c holds the defaults, so the
-- caller passes it).
CREATE FUNCTION cert_setting_at(k text, at timestamptz, dflt text) RETURNS text
	LANGUAGE sql STABLE
	RETURN coalesce(
		(SELECT coalesce(l.new_value, dflt) FROM lab_setting_log l WHERE l.key = k AND l.changed_at <= at
		 ORDER BY l.log_id DESC LIMIT 1),
		(SELECT coalesce(l.old_value, dflt) FROM lab_setting_log l WHERE l.key = k AND l.changed_at > at
		 ORDER BY l.log_id LIMIT 1),
		(SELECT s.value FROM lab_setting s WHERE s.key = k),
		dflt);
