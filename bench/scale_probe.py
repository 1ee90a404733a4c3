#!/usr/bin/env python3
"""scale_probe.py — where a bulk move and `asset show` spend their time on a
registry grown by bench_gen (issue 10). Measures the backend's CPU time
(/proc/PID/schedstat of the connection's server process, so the PostgreSQL
cluster must run on this machine) next to the wall time: on a shared 2-core
machine the wall time swings with the load, the CPU time much less. Every
comparison alternates its two sides and prints medians.

No Python driver is needed: libpq through ctypes.

  scale_probe.py --db CONNINFO [--cli PATH/meterlab] COMMAND ...
    receive LOT SERIAL     receive a 100 000-row delivery (serials SERIAL..) as bench.person (the CLI)
    move-ab LOT ROUNDS     10 000 random arrived assets of LOT to sampling (ml_asset_move as bench.person),
                           alternating 0200's row trigger asset_slot_leaves and 0330's statement trigger
                           (restores 0330's at the end)
    move-parts LOT ROUNDS  the move's pre-check alone (one unregistered barcode stops it there) vs the whole move
    show N                 asset show's four queries (the CLI's SQL) on N fresh connections: backend CPU of
                           connecting and of each query
    place-ab N             ml_asset_place: 0227's SQL function (created as ml_asset_place_0227) against the
                           current one, first call of a fresh connection and a second call
    probes-ab LOTS ROUNDS  what the per-meter probes of 0362/0369 cost a 10 000-barcode move: ml_asset_move
                           against copies (ml_asset_move_np, ml_asset_apply_np, dropped at the end) without the
                           open-order and pending-retirement probes and without the apply's pending check,
                           and copies whose two lookups are plain joins (ml_asset_move_sb: 0373's form), each
                           side first in turn, 10 000 random arrived assets of the first of LOTS (a,b,…) that has
                           them to sampling per move, after one uncounted move. The copies are made from the
                           0362/0369 text, so this needs a database migrated before 0373 (on a later one it
                           stops with 'ml_asset_move has changed')

CONNINFO is the DBA's (key=value); the person is CONNINFO with user=bench.person (bench_scale creates it).
"""
import ctypes
import ctypes.util
import random
import statistics
import subprocess
import sys
import time

lib = ctypes.CDLL(ctypes.util.find_library('pq') or 'libpq.so.5')
lib.PQconnectdb.restype = ctypes.c_void_p
lib.PQconnectdb.argtypes = [ctypes.c_char_p]
lib.PQstatus.argtypes = [ctypes.c_void_p]
lib.PQerrorMessage.restype = ctypes.c_char_p
lib.PQerrorMessage.argtypes = [ctypes.c_void_p]
lib.PQexecParams.restype = ctypes.c_void_p
lib.PQexecParams.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_void_p,
                             ctypes.POINTER(ctypes.c_char_p), ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
lib.PQresultStatus.argtypes = [ctypes.c_void_p]
lib.PQresultErrorMessage.restype = ctypes.c_char_p
lib.PQresultErrorMessage.argtypes = [ctypes.c_void_p]
lib.PQntuples.argtypes = [ctypes.c_void_p]
lib.PQnfields.argtypes = [ctypes.c_void_p]
lib.PQgetvalue.restype = ctypes.c_char_p
lib.PQgetvalue.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
lib.PQgetisnull.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
lib.PQclear.argtypes = [ctypes.c_void_p]
lib.PQfinish.argtypes = [ctypes.c_void_p]


class Conn:
    def __init__(self, ci):
        self.c = lib.PQconnectdb(ci.encode())
        if lib.PQstatus(self.c) != 0:
            raise RuntimeError(lib.PQerrorMessage(self.c).decode())
        self.pid = int(self.q("SELECT pg_backend_pid()")[0][0])

    def q(self, sql, *params):
        """Rows as lists of str/None; parameters as text (never pasted into the SQL)."""
        vals = (ctypes.c_char_p * max(1, len(params)))(*[None if p is None else str(p).encode() for p in params])
        r = lib.PQexecParams(self.c, sql.encode(), len(params), None, vals, None, None, 0)
        if lib.PQresultStatus(r) not in (1, 2):
            msg = lib.PQresultErrorMessage(r).decode()
            lib.PQclear(r)
            raise RuntimeError(msg)
        rows = [[None if lib.PQgetisnull(r, i, j) else lib.PQgetvalue(r, i, j).decode()
                 for j in range(lib.PQnfields(r))] for i in range(lib.PQntuples(r))]
        lib.PQclear(r)
        return rows

    def cpu_ms(self):
        """CPU time of this connection's server process so far (ns resolution)."""
        with open('/proc/%d/schedstat' % self.pid) as f:
            return int(f.read().split()[0]) / 1e6

    def timed(self, sql, *params):
        c0, t0 = self.cpu_ms(), time.perf_counter()
        rows = self.q(sql, *params)
        return rows, (time.perf_counter() - t0) * 1000, self.cpu_ms() - c0

    def close(self):
        lib.PQfinish(self.c)


def pgarray(vals):
    return '{' + ','.join('"%s"' % v for v in vals) + '}'


def load():
    with open('/proc/loadavg') as f:
        return ' '.join(f.read().split()[:3])


def med(v):
    return statistics.median(v) if v else float('nan')


# one statement per string (PQexecParams runs one)
ROW_TRIGGER = ["DROP TRIGGER IF EXISTS asset_slot_leaves ON asset", """CREATE OR REPLACE FUNCTION asset_slot_drop() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = public, pg_temp AS $$
BEGIN
	DELETE FROM asset_slot WHERE asset_id = NEW.asset_id;
	RETURN NULL;
END
$$""", """CREATE TRIGGER asset_slot_leaves AFTER UPDATE OF location_id, state ON asset
	FOR EACH ROW WHEN (OLD.location_id IS DISTINCT FROM NEW.location_id
			   OR NEW.state NOT IN ('in_stock', 'secondary_stock'))
	EXECUTE FUNCTION asset_slot_drop()"""]
STATEMENT_TRIGGER = ["DROP TRIGGER IF EXISTS asset_slot_leaves ON asset", """CREATE TRIGGER asset_slot_leaves AFTER UPDATE ON asset
	REFERENCING OLD TABLE AS slot_old NEW TABLE AS slot_new
	FOR EACH STATEMENT EXECUTE FUNCTION asset_slot_drop_leaving()"""]

PICK = ("SELECT a.barcode FROM asset a JOIN lot l ON l.lot_id = a.lot_id "
        "WHERE l.code = $1 AND a.state = 'arrived' ORDER BY random() LIMIT 10000")
MOVE = "SELECT * FROM ml_asset_move($1::text[], array_fill('sample'::text, ARRAY[cardinality($1::text[])]))"

# probes-ab: the move and the apply as they are, less the per-meter probes 0362 and 0369 added (the open-order
# and pending-retirement lookups of the pre-check, the apply's pending check); each replacement is checked
NOPROBE = [r"""DO $do$
DECLARE d text; e text;
BEGIN
	d := pg_get_functiondef('ml_asset_apply(bigint, ml_asset_change[])'::regprocedure);
	e := regexp_replace(d, 'SELECT a\.barcode, r\.request_id INTO bad.*?END IF;', '');
	IF e = d OR e LIKE '%retire_request_item%' THEN RAISE EXCEPTION 'probes-ab: ml_asset_apply has changed'; END IF;
	EXECUTE replace(e, 'FUNCTION public.ml_asset_apply(', 'FUNCTION public.ml_asset_apply_np(');
	d := pg_get_functiondef('ml_asset_move(text[], text[], text[], text[], jsonb[])'::regprocedure);
	e := regexp_replace(d, 'LEFT JOIN LATERAL \(SELECT i\.order_id, i\.status FROM dist_order_item i.*?\) ord ON true',
			    'LEFT JOIN LATERAL (SELECT NULL::bigint AS order_id, NULL::text AS status) ord ON true');
	e := regexp_replace(e, 'LEFT JOIN LATERAL \(SELECT r\.request_id FROM retire_request_item r.*?\) ret ON true',
			    'LEFT JOIN LATERAL (SELECT NULL::bigint AS request_id) ret ON true');
	e := replace(e, 'ml_asset_apply(actor, changes)', 'ml_asset_apply_np(actor, changes)');
	IF e LIKE '%dist_order_item%' OR e LIKE '%retire_request_item%' OR e NOT LIKE '%ml_asset_apply_np(actor%' THEN
		RAISE EXCEPTION 'probes-ab: ml_asset_move has changed';
	END IF;
	EXECUTE replace(e, 'FUNCTION public.ml_asset_move(', 'FUNCTION public.ml_asset_move_np(');
	-- the same lookups as joins: at most one open order item and one pending request per asset (the unique
	-- partial indexes dist_order_item_one_open and retire_request_item_one_pending), so no LIMIT 1 is needed
	-- and the planner may hash each table once instead of probing it per meter (0373)
	e := regexp_replace(d, 'LEFT JOIN LATERAL \(SELECT i\.order_id, i\.status FROM dist_order_item i.*?\) ord ON true',
			    'LEFT JOIN dist_order_item ord ON ord.asset_id = x.asset_id AND ord.open');
	e := regexp_replace(e, 'LEFT JOIN LATERAL \(SELECT r\.request_id FROM retire_request_item r.*?\) ret ON true',
			    'LEFT JOIN retire_request_item ret ON ret.asset_id = x.asset_id AND ret.pending');
	IF e LIKE '%FROM dist_order_item%' OR e LIKE '%FROM retire_request_item%' THEN
		RAISE EXCEPTION 'probes-ab: ml_asset_move has changed';
	END IF;
	EXECUTE replace(e, 'FUNCTION public.ml_asset_move(', 'FUNCTION public.ml_asset_move_sb(');
END
$do$""", "GRANT EXECUTE ON FUNCTION ml_asset_move_np(text[], text[], text[], text[], jsonb[]) TO PUBLIC",
           "GRANT EXECUTE ON FUNCTION ml_asset_move_sb(text[], text[], text[], text[], jsonb[]) TO PUBLIC"]

# asset show's SQL, as cli/cmd_asset.c runs it (assets/lifecycle.c, assets/catalogue.c, stores/stock.c)
LOOKUP = ("SELECT a.asset_id, a.barcode, a.model_id, m.code AS model_code, lot.code AS lot_code, "
          "a.state, coalesce(l.code, '') AS location, coalesce(l.kind, '') AS location_kind, "
          "coalesce(to_char(a.valid_until, 'YYYY-MM-DD'), '') AS valid_until, "
          "(a.valid_until IS NOT NULL AND a.valid_until < current_date) AS expired "
          "FROM asset a JOIN device_model m ON m.model_id = a.model_id "
          "JOIN lot ON lot.lot_id = a.lot_id LEFT JOIN location l ON l.location_id = a.location_id "
          "WHERE a.barcode = $1")
HISTORY = ("SELECT e.event_id, to_char(e.occurred_at, 'YYYY-MM-DD HH24:MI:SS TZ') AS occurred_at, "
           "coalesce(u.display_name || ' (' || u.login || ')', e.actor) AS actor, "
           "l.code AS location, e.from_state, e.to_state, e.action, e.reason, e.details::text AS details "
           "FROM asset_event e LEFT JOIN location l ON l.location_id = e.location_id "
           "LEFT JOIN app_user u ON u.user_id = e.actor_id "
           "WHERE e.asset_id = $1::bigint ORDER BY e.occurred_at, e.event_id")
MODEL = ("SELECT m.model_id, m.code, f.code AS manufacturer, m.name, m.kind, m.accuracy_class, "
         "m.reactive_class, m.connection, m.wiring, m.un_v::text AS un_v, m.ib_a::text AS ib_a, "
         "m.imax_a::text AS imax_a, m.constant_imp, m.clock_freq_hz::text AS clock_freq_hz, "
         "m.ct_primary_a::text AS ct_primary_a, m.ct_secondary_a::text AS ct_secondary_a, "
         "m.vt_primary_v::text AS vt_primary_v, m.vt_secondary_v::text AS vt_secondary_v, "
         "m.rated_burden_va::text AS rated_burden_va, m.verification_period_months "
         "FROM device_model m JOIN manufacturer f USING (manufacturer_id) WHERE m.model_id = $1::bigint")
PLACE = "SELECT ml_asset_place(asset_id) FROM asset WHERE ml_barcode_ok($1) AND barcode = $1::bpchar"

PLACE_0227 = """CREATE OR REPLACE FUNCTION ml_asset_place_0227(p_asset_id bigint) RETURNS text
	LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
	SELECT CASE
		WHEN s.barcode IS NOT NULL THEN 'slot ' || s.barcode || ' of store ' || l.code
		WHEN a.state IN ('in_stock', 'secondary_stock') THEN 'store ' || l.code || ' (not put away)'
		WHEN o.order_id IS NOT NULL THEN format('in transit on distribution order %s from %s to %s', o.order_id,
			(SELECT code FROM location WHERE location_id = o.from_id), (SELECT code FROM location WHERE location_id = o.to_id))
		WHEN a.state IN ('lost', 'scrapped', 'returned_to_maker')
			THEN a.state || ' (last at ' || coalesce(l.code, 'no location') || ')'
		WHEN mp.point_id IS NOT NULL THEN format('metering point %s (%s; account %s, %s; site %s) since %s',
			mp.code, inst.element, mp.account_no, mp.address, l.code, to_char(inst.installed_at, 'YYYY-MM-DD'))
		WHEN a.state = 'issued' THEN 'field team ' || l.code || ' (issued)'
		WHEN a.state = 'removed' THEN 'field team ' || l.code || ' (removed from service)'
		ELSE a.state || ' at ' || coalesce(replace(l.kind, '_', ' ') || ' ' || l.code, 'no location') END
	FROM asset a LEFT JOIN location l ON l.location_id = a.location_id
	LEFT JOIN asset_slot x ON x.asset_id = a.asset_id LEFT JOIN store_slot s ON s.slot_id = x.slot_id
	LEFT JOIN dist_order_item i ON i.asset_id = a.asset_id AND i.status = 'in_transit'
	LEFT JOIN dist_order o ON o.order_id = i.order_id
	LEFT JOIN installation inst ON inst.asset_id = a.asset_id AND inst.removed_at IS NULL
	LEFT JOIN metering_point mp ON mp.point_id = inst.point_id
	WHERE a.asset_id = p_asset_id
$$"""


def main():
    args = sys.argv[1:]
    db, cli = None, 'meterlab'
    while args and args[0].startswith('--'):
        if args[0] == '--db':
            db = args[1]
        elif args[0] == '--cli':
            cli = args[1]
        else:
            sys.exit(__doc__)
        args = args[2:]
    if not db or not args:
        sys.exit(__doc__)
    person = db + ' user=bench.person'
    dba = Conn(db)
    cmd = args[0]
    print('scale_probe %s: %s assets; load %s' % (cmd, dba.q("SELECT count(*) FROM asset")[0][0], load()))
    if cmd == 'receive':
        lot, base = args[1], int(args[2])
        path = '/tmp/scale_probe_delivery.csv'
        rows = dba.q("SELECT b || ml_barcode_check_digit(b) FROM generate_series(0, 99999) i, "
                     "LATERAL (SELECT '4130001' || lpad(($1::bigint + i)::text, 14, '0') AS b) x", base)
        with open(path, 'w') as f:
            f.write('barcode,model_code,production_batch,production_date\n')
            model = dba.q("SELECT code FROM device_model ORDER BY model_id LIMIT 1")[0][0]
            for i, r in enumerate(rows):
                f.write('%s,%s,B%d,2026-09-14\n' % (r[0], model, i // 1000))
        t0 = time.perf_counter()
        subprocess.run([cli, '--db', person, 'asset', 'receive', '--lot', lot, '--file', path],
                       check=True, stdout=subprocess.DEVNULL)
        print('  asset receive of 100 000 rows: %.0f ms' % ((time.perf_counter() - t0) * 1000))
    elif cmd == 'move-ab':
        lot, rounds = args[1], int(args[2])
        me = Conn(person)
        res = {'row trigger (0200)': [], 'statement trigger (0330)': []}
        try:
            for r in range(rounds):
                order = list(res) if r % 2 == 0 else list(res)[::-1]
                for side in order:
                    for sql in ROW_TRIGGER if side.startswith('row') else STATEMENT_TRIGGER:
                        dba.q(sql)
                    bcs = [x[0] for x in dba.q(PICK, lot)]
                    if len(bcs) < 10000:
                        sys.exit('only %d arrived assets left in %s' % (len(bcs), lot))
                    rows, wall, cpu = me.timed(MOVE, pgarray(bcs))
                    if rows:
                        sys.exit('refused: %s' % rows[0])
                    res[side].append((wall, cpu))
                    print('  %-26s wall %6.0f ms  backend CPU %5.0f ms' % (side, wall, cpu), flush=True)
        finally:
            for sql in STATEMENT_TRIGGER + ["DROP FUNCTION IF EXISTS asset_slot_drop()"]:
                dba.q(sql)
        for side, v in res.items():
            print('  %-26s median wall %6.0f ms  backend CPU %5.0f ms  (%d moves of 10 000)'
                  % (side, med([w for w, c in v]), med([c for w, c in v]), len(v)))
    elif cmd == 'move-parts':
        lot, rounds = args[1], int(args[2])
        me = Conn(person)
        pre, whole = [], []
        for r in range(rounds):
            bcs = [x[0] for x in dba.q(PICK, lot)]
            rows, w1, c1 = me.timed(MOVE, pgarray(bcs[:-1] + ['4130009999999999999990']))
            assert len(rows) == 1, rows
            rows, w2, c2 = me.timed(MOVE, pgarray(bcs))
            assert rows == [], rows
            pre.append((w1, c1))
            whole.append((w2, c2))
            print('  pre-check alone wall %5.0f ms CPU %4.0f ms | whole move wall %5.0f ms CPU %4.0f ms'
                  % (w1, c1, w2, c2), flush=True)
        print('  medians: pre-check CPU %.0f ms, whole move CPU %.0f ms (wall %.0f ms)'
              % (med([c for w, c in pre]), med([c for w, c in whole]), med([w for w, c in whole])))
    elif cmd == 'show':
        n = int(args[1])
        mx = int(dba.q("SELECT max(asset_id) FROM asset")[0][0])
        cols = {k: [] for k in ('connect', 'lookup', 'history', 'model', 'place', 'all four', 'whole (wall)')}
        for i in range(n):
            bc = dba.q("SELECT barcode FROM asset WHERE asset_id >= $1::bigint ORDER BY asset_id LIMIT 1",
                       random.randint(1, mx))[0][0]
            t0 = time.perf_counter()
            me = Conn(person)
            c0 = me.cpu_ms()
            cols['connect'].append(c0)
            me.q("SET client_min_messages = warning")
            r, _, x = me.timed(LOOKUP, bc)
            cols['lookup'].append(x)
            _, _, x = me.timed(HISTORY, r[0][0])
            cols['history'].append(x)
            _, _, x = me.timed(MODEL, r[0][2])
            cols['model'].append(x)
            _, _, x = me.timed(PLACE, bc)
            cols['place'].append(x)
            cols['all four'].append(me.cpu_ms() - c0)
            me.close()
            cols['whole (wall)'].append((time.perf_counter() - t0) * 1000)
        print('  %d random assets, each on a fresh connection: backend CPU in ms (median, p90)' % n)
        for k, v in cols.items():
            v.sort()
            print('  %-14s %7.2f %7.2f' % (k, med(v), v[int(len(v) * 0.9)]))
    elif cmd == 'place-ab':
        n = int(args[1])
        dba.q(PLACE_0227)
        dba.q("GRANT EXECUTE ON FUNCTION ml_asset_place_0227(bigint) TO PUBLIC")
        mx = int(dba.q("SELECT max(asset_id) FROM asset")[0][0])
        ids = [str(random.randint(1, mx)) for _ in range(n + 1)]
        for i in ids:
            a = dba.q("SELECT ml_asset_place_0227($1::bigint), ml_asset_place($1::bigint)", i)[0]
            if a[0] != a[1]:
                sys.exit('different answers for asset %s: %s' % (i, a))
        sides = {'SQL function (0227)': 'ml_asset_place_0227', 'PL/pgSQL (0331)': 'ml_asset_place'}
        res = {k: ([], []) for k in sides}
        for k in range(n):
            order = list(sides) if k % 2 == 0 else list(sides)[::-1]
            for side in order:
                me = Conn(person)
                me.q("SELECT state FROM asset WHERE asset_id = 1")  # asset's catalogue entries, as after the lookup
                res[side][0].append(me.timed("SELECT %s($1::bigint)" % sides[side], ids[k])[2])
                res[side][1].append(me.timed("SELECT %s($1::bigint)" % sides[side], ids[k + 1])[2])
                me.close()
        for side, (first, second) in res.items():
            print('  %-20s backend CPU median: first call of a connection %.2f ms, second call %.2f ms (%d)'
                  % (side, med(first), med(second), n))
        dba.q("DROP FUNCTION ml_asset_place_0227(bigint)")
    elif cmd == 'probes-ab':
        lots, rounds = args[1].split(','), int(args[2])

        def pick(n=10000):
            for lot in lots:
                bcs = [x[0] for x in dba.q(PICK, lot)][:n]
                if len(bcs) == n:
                    return bcs
            sys.exit('fewer than %d arrived assets left in each of %s' % (n, args[1]))
        for sql in NOPROBE:
            dba.q(sql)
        me = Conn(person)
        sides = {'per-meter probes (0369)': 'ml_asset_move', 'set-based joins (copy)': 'ml_asset_move_sb',
                 'no probes at all (copy)': 'ml_asset_move_np'}
        res = {k: [] for k in sides}
        try:
            # warm-up, not counted: each function compiled with its plans cached, and one whole move first
            # (the first 10 000-asset move of a connection cost about twice the CPU of the next ones)
            for side in sides:
                if me.q(MOVE.replace('ml_asset_move', sides[side]), pgarray(pick(10))):
                    sys.exit('refused in the warm-up')
            if me.q(MOVE, pgarray(pick())):
                sys.exit('refused in the warm-up')
            for r in range(rounds):
                order = list(sides)[r % 3:] + list(sides)[:r % 3]  # each side first in turn
                for side in order:
                    bcs = pick()
                    rows, wall, cpu = me.timed(MOVE.replace('ml_asset_move', sides[side]), pgarray(bcs))
                    if rows:
                        sys.exit('refused: %s' % rows[0])
                    res[side].append((wall, cpu))
                    print('  %-24s wall %6.0f ms  backend CPU %5.0f ms  load %s' % (side, wall, cpu, load()),
                          flush=True)
        finally:
            dba.q("DROP FUNCTION IF EXISTS ml_asset_move_np(text[], text[], text[], text[], jsonb[])")
            dba.q("DROP FUNCTION IF EXISTS ml_asset_move_sb(text[], text[], text[], text[], jsonb[])")
            dba.q("DROP FUNCTION IF EXISTS ml_asset_apply_np(bigint, ml_asset_change[])")
        for side, v in res.items():
            print('  %-24s median wall %6.0f ms (%.0f-%.0f)  backend CPU %5.0f ms (%.0f-%.0f)  (%d moves of 10 000)'
                  % (side, med([w for w, c in v]), min(w for w, c in v), max(w for w, c in v),
                     med([c for w, c in v]), min(c for w, c in v), max(c for w, c in v), len(v)))
    else:
        sys.exit(__doc__)
    print('  load at the end %s' % load())


if __name__ == '__main__':
    main()
