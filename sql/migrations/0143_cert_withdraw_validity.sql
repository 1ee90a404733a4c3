-- 0143: withdrawing a certificate takes back the validity it gave the asset.
--
-- A withdrawn certificate (cert_withdrawal, 0043/0141) no longer attests
-- the asset's verification, so the asset may not keep the valid_until that
-- certificate gave it: an asset in stock with a withdrawn certificate would
-- otherwise still be issued and installed as verified (issue 8: "keeps the
-- asset's validity consistent with the current revision"). The asset's
-- validity is cleared in the same transaction, through ml_asset_apply, with
-- one history event by the person who withdrew it; the state is unchanged
-- (a verified meter whose paper is withdrawn is re-verified or re-issued
-- by the lab, not moved by this function). Only when the asset's validity
-- is still the one this certificate carried: a later verification's date is
-- left alone.
CREATE OR REPLACE FUNCTION ml_cert_withdraw(p_id bigint, p_reason text) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
DECLARE
	uid bigint := ml_require('cert.withdraw');
	reason text := ml_cert_reason('a withdrawal', p_reason);
	c certificate := ml_cert_lock(p_id);
	changes ml_asset_change[];
BEGIN
	PERFORM ml_cert_require_current(c, 'withdrawn', false);
	INSERT INTO cert_withdrawal (asset_id, cert_id, reason, withdrawn_by, withdrawn_by_id)
	VALUES (c.asset_id, c.id, reason, ml_user_name(uid), uid);
	IF c.kind = 1 THEN
		SELECT array_agg(ROW(a.asset_id, a.state, a.state, 'cert_withdraw', NULL, true, NULL,
				     format('certificate %s revision %s withdrawn: %s', c.cert_no, c.revision, reason),
				     jsonb_build_object('cert_id', c.id, 'cert_no', c.cert_no, 'revision', c.revision,
							'valid_until_before', a.valid_until))::ml_asset_change)
		INTO changes
		FROM asset a
		WHERE a.asset_id = c.asset_id
		  AND a.valid_until IS NOT NULL
		  AND a.valid_until = (c.content ->> 'valid_until')::date;
		IF changes IS NOT NULL THEN
			PERFORM ml_asset_apply(uid, changes);
		END IF;
	END IF;
END
$$;
