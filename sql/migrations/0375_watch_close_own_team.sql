-- 0375: a work item placed at a field team is closed by that team or a
-- manager (planning audit, finding 4).
--
-- ml_watch_close (0300) checked the item's role only. The installation rules
-- (reading_backwards, unsealed_install; rotation_overdue, 0303;
-- inspection_overdue, 0310) place their items at the installing team
-- (watch_item.place_id = installation.team_id), with role field_member: any
-- field member of ANY team could close another team's item and, with a
-- reason, waive it — and a waived anomaly is never opened again (0300), so
-- one team could silence another's overdue rotation or unsealed meter for
-- good, and the other team's timeliness (ml_watch_timeliness, per place)
-- counted it as closed.
--
-- A field member belongs to one team (app_user.team_location_id, set by
-- ml_user_set_team, 0100); ml_install (0225, ml_actor_team) lets a member
-- install only as that team. The same rule now holds for closing: an item
-- whose place is a field_team location is closed (with or without a
-- reason) only by a member of that team, or by a manager (the role 0300's
-- check already lets close any item). Items at any other place, or at none
-- ('centre'), keep 0300's rule: the item's role or manager. A refusal is
-- 42501 (insufficient privilege: ML_EPERM, HTTP 403 "forbidden", CLI exit
-- 9) naming the item, its team and the person, and writes nothing.
--
-- Restated whole with 0300's clauses (SECURITY DEFINER, search_path; no
-- migration since set others: 0365 did not give this one a TimeZone, its
-- only date is now()). CREATE OR REPLACE keeps the owner and the grant.

CREATE OR REPLACE FUNCTION ml_watch_close(p_item bigint, p_note text, p_reason text DEFAULT NULL)
	RETURNS boolean
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	actor bigint := ml_require('watch.close');
	is_manager boolean := 'manager' = ANY (ml_actor_roles());
	it watch_item;
	r watch_rule;
	held boolean;
	team text;
BEGIN
	SELECT * INTO it FROM watch_item WHERE item_id = p_item FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'work item % does not exist', p_item USING ERRCODE = 'P0002';
	END IF;
	IF it.status <> 'open' THEN
		RAISE EXCEPTION 'work item % is already closed', p_item USING ERRCODE = '55000';
	END IF;
	IF NOT (it.role = ANY (ml_actor_roles()) OR is_manager) THEN
		RAISE EXCEPTION 'work item % is assigned to role %: % does not hold it (nor manager)', p_item, it.role,
			(SELECT login FROM app_user WHERE user_id = actor) USING ERRCODE = '42501';
	END IF;
	-- an item at a field team is that team's work: its members close it (0375; the
	-- membership ml_install applies, 0225), or a manager
	SELECT l.code INTO team FROM location l WHERE l.location_id = it.place_id AND l.kind = 'field_team';
	IF team IS NOT NULL AND NOT is_manager
	   AND it.place_id IS DISTINCT FROM (SELECT u.team_location_id FROM app_user u WHERE u.user_id = actor) THEN
		RAISE EXCEPTION 'work item % belongs to field team %: % is not a member of it (nor manager)', p_item, team,
			(SELECT login FROM app_user WHERE user_id = actor) USING ERRCODE = '42501';
	END IF;
	p_note := ml_clean_text('rectification note', p_note, 1000, true);
	p_reason := ml_clean_text('reason', p_reason, 1000, false);
	SELECT * INTO r FROM watch_rule WHERE code = it.rule;
	held := EXISTS (SELECT 1 FROM ml_watch_detect(r.code, r.threshold, it.anomaly_key));
	IF held AND p_reason IS NULL THEN
		RAISE EXCEPTION 'work item %: the condition still holds (%): fix it first, or close it with a reason',
			p_item, it.summary USING ERRCODE = '55000';
	END IF;
	UPDATE watch_item SET status = 'closed', closed_by = actor, closed_at = now(), note = p_note,
		reason = p_reason, condition_held = held,
		cleared_at = CASE WHEN held THEN NULL ELSE coalesce(cleared_at, now()) END
	WHERE item_id = p_item;
	RETURN held;
END
$$;
