-- 0142: meterlab_app is only the group role of the application's
-- privileges; nobody logs in as it (issue 8).
--
-- Until now the shared role could still log in, and every change it made
-- was nobody's: ml_actor_id() refuses it (28000, it is no meterlab user),
-- but its login was a way around naming a person. Every person has their
-- own login (a member of meterlab_app), the server has meterlab_service:
-- with both parts of issue 8 in place (0111–0114, 0140–0141: truth written
-- only by functions, actors from the session), the role keeps its
-- privileges for its members and loses its login. Roles are cluster-wide:
-- the change holds for every database of the cluster.
DO $$
BEGIN
	IF (SELECT rolcanlogin FROM pg_roles WHERE rolname = 'meterlab_app') THEN
		ALTER ROLE meterlab_app NOLOGIN;
	END IF;
END
$$;
