-- Records at city scale for the list pages' query plans (docs/benchmarks.md "List pages' query plans").
--
-- Run on a throw-away database that holds the city-scale areas, departments and demo users:
--   DATABASE_URL=postgres://postgres@127.0.0.1:5432/gov_lists .venv/bin/python manage.py migrate
--   DATABASE_URL=... DEBUG=true .venv/bin/python manage.py seed_demo --scale city --areas-only
--   psql -h 127.0.0.1 -U postgres gov_lists -f bench/lists_data.sql
-- then read the plans with bench/lists_explain.py. Set-based (generate_series), repeatable (hashes of
-- the keys, no random()); it deletes the incidents, events, dispute cases and petitions first.
--
-- Sizes: three years of a city's work. 600,000 petitions (about 2% still routed or accepted, the rest
-- further on, 94% closed), half of them handled by district departments (a district's police holds
-- some 2,500); 500,000 incidents over the 7,022 grids (2% open), 60% dispatched to a department, each
-- of those with its feedback event, 8% of those with a supporting department; 190,000 dispute cases
-- (3% open).

\set ON_ERROR_STOP on
BEGIN;
DELETE FROM petitions_petitionevent;
DELETE FROM petitions_petitioner;
DELETE FROM petitions_petition;
DELETE FROM mediation_disputecase;
DELETE FROM grids_incidentevent;
DELETE FROM grids_incident_supporting_departments;
DELETE FROM grids_incidentphoto;
DELETE FROM grids_incident;

CREATE TEMP TABLE dept AS
SELECT row_number() OVER (ORDER BY (a.level <> 'district'), d.id) - 1 AS n, d.id, d.area_id, a.path, a.level
FROM governance_department d JOIN governance_area a ON a.id = d.area_id;
CREATE TEMP TABLE grid AS
SELECT row_number() OVER (ORDER BY id) - 1 AS n, id, path FROM governance_area WHERE level = 'grid';
CREATE TEMP TABLE community AS
SELECT row_number() OVER (ORDER BY id) - 1 AS n, id FROM governance_area WHERE level = 'community';

-- h(i, salt): a repeatable pseudo-random number in [0, 1).
CREATE FUNCTION pg_temp.h(i bigint, salt int) RETURNS float8 LANGUAGE sql IMMUTABLE AS
$$ SELECT ('x' || substr(md5(i::text || ':' || salt::text), 1, 8))::bit(32)::bigint / 4294967296.0 $$;

-- Petitions. Half go to the 120 district departments (skewed: the first ones, a district's police
-- and housing bureaus, get the most), half to the street and community ones.
INSERT INTO petitions_petition (
    code, channel, received_at, handling_type, category, content, persons_count, is_group, is_repeat,
    registered_at, status, due_at, route_due_at, redirect_route, extended_days, extension_reason,
    reply_opinion, reply_text, evaluation, review_decision, re_review_decision, closed_for_good,
    area_id, department_id, complained_unit_id, registered_by_id
)
SELECT
    'PET-B-' || lpad(i::text, 7, '0'),
    (ARRAY['online', 'letter', 'phone', 'visit'])[1 + (i % 4)],
    t.received,
    (ARRAY['suggestion', 'report', 'claim'])[1 + (i % 3)],
    (ARRAY['land', 'housing', 'labour', 'environment', 'other'])[1 + (i % 5)],
    'generated', 1, false, false, t.received,
    t.status,
    CASE WHEN t.status IN ('routed', 'accepted', 'replied', 'under_review') THEN t.received + interval '60 days' END,
    t.received + interval '15 days', '', 0, '', '', '', '', '', '', t.status = 'closed',
    d.area_id, d.id, CASE WHEN pg_temp.h(i, 3) < 0.1 THEN d.id END,
    (SELECT id FROM governance_user WHERE username = 'demo_petition')
FROM generate_series(1, 600000) AS i
CROSS JOIN LATERAL (
    SELECT
        now() - (i / 600000.0) * interval '1095 days' AS received,
        CASE
            WHEN i <= 600000 * 0.02 THEN (ARRAY['routed', 'accepted'])[1 + (i % 2)]
            WHEN i <= 600000 * 0.04 THEN (ARRAY['replied', 'under_review', 'registered'])[1 + (i % 3)]
            WHEN i <= 600000 * 0.06 THEN (ARRAY['declined', 'redirected', 'reviewed'])[1 + (i % 3)]
            ELSE 'closed'
        END AS status,
        CASE
            WHEN pg_temp.h(i, 1) < 0.5 THEN floor(120 * pg_temp.h(i, 2) ^ 3)::int
            ELSE 120 + floor((SELECT count(*) - 120 FROM dept) * pg_temp.h(i, 2))::int
        END AS dept_n
) AS t
JOIN dept d ON d.n = t.dept_n
-- Written in the order they arrive, as on a live database: the join alone wrote them grouped by
-- department (correlation 1), and a department's petitions read as one stretch of the table.
ORDER BY i;

-- Incidents: the newest 2% are open (a quarter of them still at the centre, the rest dispatched or
-- being handled), the rest closed or evaluated; 60% were dispatched to a department of the grid's
-- district (the district's departments are numbered 10 per district, as seed_demo makes them).
INSERT INTO grids_incident (
    code, address, description, occurred_at, reported_at, kind, level, status, due_at, resolution,
    resolved_level, evaluation, evaluation_note, department_id, grid_id, level_area_id, reporter_id,
    category_id
)
SELECT
    'INC-B-' || lpad(i::text, 7, '0'), '', 'generated', t.reported, t.reported, 'incident', 'community',
    t.status,
    CASE WHEN t.status NOT IN ('closed', 'evaluated') THEN t.reported + interval '3 days' END,
    '', '', '', '',
    CASE WHEN t.status IN ('dispatched', 'handling') OR (t.status IN ('closed', 'evaluated') AND pg_temp.h(i, 5) < 0.6)
        THEN (SELECT d.id FROM dept d WHERE d.level = 'district' AND g.path LIKE d.path || '%'
              ORDER BY d.n OFFSET floor(10 * pg_temp.h(i, 6))::int LIMIT 1) END,
    g.id, g.id, (SELECT id FROM governance_user WHERE username = 'demo_gridworker'),
    1 + (i % 12)
FROM generate_series(1, 500000) AS i
CROSS JOIN LATERAL (
    SELECT
        now() - (i / 500000.0) * interval '1095 days' AS reported,
        CASE
            WHEN i <= 500000 * 0.005 THEN (ARRAY['reported', 'accepted'])[1 + (i % 2)]
            WHEN i <= 500000 * 0.02 THEN (ARRAY['dispatched', 'handling', 'fed_back'])[1 + (i % 3)]
            ELSE (ARRAY['closed', 'evaluated'])[1 + (i % 2)]
        END AS status,
        floor(7022 * pg_temp.h(i, 4))::int AS grid_n
) AS t
JOIN grid g ON g.n = t.grid_n;

-- The feedback event that ended each dispatched item's handle + feedback step (~90% on time).
INSERT INTO grids_incidentevent (
    at, action, from_status, to_status, note, level, from_level, step_due_at, on_time, actor_id,
    department_id, incident_id, area_id
)
SELECT
    i.reported_at + interval '2 days', 'feedback', 'handling', 'fed_back', '', 'community', 'community',
    i.reported_at + interval '3 days', pg_temp.h(i.id, 7) < 0.9, i.reporter_id, i.department_id, i.id,
    i.grid_id
FROM grids_incident i
WHERE i.department_id IS NOT NULL AND i.status IN ('closed', 'evaluated', 'fed_back');

-- Coordination items: 8% of the dispatched items have one supporting department, another of the
-- lead's district (24,154 rows; the demo district's police supports 200): the department filter reads
-- the supporters' table too (docs/benchmarks.md "Inventory").
INSERT INTO grids_incident_supporting_departments (incident_id, department_id)
SELECT i.id, s.id
FROM grids_incident i
JOIN governance_department d ON d.id = i.department_id
CROSS JOIN LATERAL (
    SELECT d2.id FROM governance_department d2 WHERE d2.area_id = d.area_id AND d2.id <> d.id
    ORDER BY d2.id OFFSET floor(9 * pg_temp.h(i.id, 10))::int LIMIT 1
) s
WHERE pg_temp.h(i.id, 9) < 0.08;
UPDATE grids_incident SET kind = 'coordination'
WHERE id IN (SELECT incident_id FROM grids_incident_supporting_departments);

-- Dispute cases at community level, the newest 3% open.
INSERT INTO mediation_disputecase (
    code, origin, referral_reference, description, persons_involved, risk_violence, risk_group,
    received_at, status, due_at, extended, decline_reason, suggested_route, outcome, other_routes,
    outcome_note, agreement_facts, agreement_terms, performance_method, judicial_status, follow_up,
    escalation_prevented, escalation_persons, group_defused, group_persons, area_id,
    registered_by_id, category_id
)
SELECT
    'DSP-B-' || lpad(i::text, 7, '0'), 'application', '', 'generated', 2, false, false,
    t.received,
    CASE WHEN i <= 190000 * 0.03 THEN (ARRAY['registered', 'accepted', 'in_mediation'])[1 + (i % 3)] ELSE 'closed' END,
    CASE WHEN i <= 190000 * 0.03 AND i % 3 > 0 THEN t.received + interval '30 days' END,
    false, '', '', '', '[]', '', '', '', '', '', '', false, 0, false, 0, c.id,
    (SELECT id FROM governance_user WHERE username = 'demo_mediator'), 1 + (i % 5)
FROM generate_series(1, 190000) AS i
CROSS JOIN LATERAL (SELECT now() - (i / 190000.0) * interval '1095 days' AS received) AS t
JOIN community c ON c.n = floor(1746 * pg_temp.h(i, 8))::int;

COMMIT;
VACUUM ANALYZE petitions_petition;
VACUUM ANALYZE grids_incident;
VACUUM ANALYZE grids_incidentevent;
VACUUM ANALYZE grids_incident_supporting_departments;
VACUUM ANALYZE mediation_disputecase;
