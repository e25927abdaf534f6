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
-- (3% open) with the 1,917 mediation organisations seed_demo's mediation demo gives the city (a
-- people's mediation committee per community, a street centre per street, a district centre, a
-- police-people joint room and a medical-dispute committee per district) and their 6,081 mediators
-- (users named bench_med_*, with the mediator role at the organisation's area; 3 per committee, 5
-- per street centre, 6 per district centre, 4 in the other district bodies; demo_mediator heads the
-- first street's centre, as in seed_demo). A case goes, as seed_demo sends them, to its community's
-- committee (62%), its street's centre (25%), the district's police-people room (6%), district
-- centre (5%) or medical committee (2%); every case but the 1,900 still registered has a mediator of
-- its organisation (demo_mediator takes half of their centre's). It deletes the organisations and
-- their members first too; the bench_med_ users and their mediator roles are kept and reused (a
-- user's deletion is checked against three unindexed user columns of the incidents, once per user
-- and column: a second run spent minutes there).

\set ON_ERROR_STOP on
BEGIN;
DELETE FROM petitions_petitionevent;
DELETE FROM petitions_petitioner;
DELETE FROM petitions_petition;
DELETE FROM mediation_disputeevent;
DELETE FROM mediation_disputesession;
DELETE FROM mediation_disputeparty;
DELETE FROM mediation_disputecase;
DELETE FROM mediation_organisationmember;
DELETE FROM mediation_mediationorganisation;
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

-- Mediation organisations, as seed_demo's mediation demo makes them (mediation/demo.py), and their
-- mediators: users with the mediator role at the organisation's area, the first one the head.
INSERT INTO mediation_mediationorganisation (name, kind, industry, is_active, area_id)
SELECT a.name || k.suffix, k.kind, k.industry, true, a.id
FROM governance_area a
JOIN (VALUES
    ('district', 'district_centre', '矛盾纠纷调解中心', ''),
    ('district', 'police_joint', '警民联调室', ''),
    ('district', 'industry', '医疗纠纷人民调解委员会', 'medical'),
    ('street', 'street_centre', '人民调解委员会', ''),
    ('community', 'committee', '人民调解委员会', '')
) AS k (level, kind, suffix, industry) ON k.level = a.level
ORDER BY a.code, k.kind;
CREATE TEMP TABLE org AS
SELECT o.id, o.kind, o.area_id, a.code,
       CASE o.kind WHEN 'committee' THEN 3 WHEN 'street_centre' THEN 5 WHEN 'district_centre' THEN 6 ELSE 4 END AS staff
FROM mediation_mediationorganisation o JOIN governance_area a ON a.id = o.area_id;
CREATE INDEX ON org (area_id);
INSERT INTO governance_user (
    password, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined,
    display_name, must_change_password
)
SELECT '!bench', false, 'bench_med_' || o.code || '_' || left(o.kind, 4) || '_' || n, '', '', '', false,
       true, now(), '调解员 ' || n, false
FROM org o CROSS JOIN LATERAL generate_series(1, o.staff) AS n
ORDER BY o.code, o.kind, n
ON CONFLICT (username) DO NOTHING;
CREATE TEMP TABLE mediator AS
SELECT o.id AS org_id, n, u.id AS user_id
FROM org o CROSS JOIN LATERAL generate_series(1, o.staff) AS n
JOIN governance_user u ON u.username = 'bench_med_' || o.code || '_' || left(o.kind, 4) || '_' || n;
INSERT INTO governance_membership (role, area_id, department_id, user_id, is_head)
SELECT 'mediator', o.area_id, NULL, m.user_id, false FROM mediator m JOIN org o ON o.id = m.org_id
ON CONFLICT (user_id, role, area_id) DO NOTHING;
INSERT INTO mediation_organisationmember (is_head, joined_on, organisation_id, user_id)
SELECT m.n = 1 AND o.area_id <> demo.area_id, current_date, m.org_id, m.user_id
FROM mediator m JOIN org o ON o.id = m.org_id
CROSS JOIN (SELECT area_id FROM governance_membership ms JOIN governance_user u ON u.id = ms.user_id
            WHERE u.username = 'demo_mediator' AND ms.role = 'mediator') AS demo;
-- demo_mediator (a mediator of the first street) heads its centre, as in seed_demo.
INSERT INTO mediation_organisationmember (is_head, joined_on, organisation_id, user_id)
SELECT true, current_date, o.id, u.id
FROM governance_user u
JOIN governance_membership ms ON ms.user_id = u.id AND ms.role = 'mediator'
JOIN org o ON o.area_id = ms.area_id AND o.kind = 'street_centre'
WHERE u.username = 'demo_mediator';

-- Where each community's cases go: its committee, its street's centre, its district's bodies.
CREATE TEMP TABLE seat AS
SELECT c.n, c.id AS community_id,
       (SELECT id FROM org WHERE area_id = c.id) AS committee,
       (SELECT id FROM org WHERE area_id = s.id) AS street_centre,
       (SELECT id FROM org WHERE area_id = s.parent_id AND kind = 'police_joint') AS police_joint,
       (SELECT id FROM org WHERE area_id = s.parent_id AND kind = 'district_centre') AS district_centre,
       (SELECT id FROM org WHERE area_id = s.parent_id AND kind = 'industry') AS industry
FROM community c JOIN governance_area ca ON ca.id = c.id JOIN governance_area s ON s.id = ca.parent_id;
CREATE INDEX ON seat (n);
ANALYZE org;
ANALYZE mediator;
ANALYZE seat;

-- Dispute cases at community level, the newest 3% open; all but the registered ones (1,900) with a
-- mediator of their organisation, half of those of demo_mediator's centre his.
INSERT INTO mediation_disputecase (
    code, origin, referral_reference, description, persons_involved, risk_violence, risk_group,
    received_at, status, due_at, extended, decline_reason, suggested_route, outcome, other_routes,
    outcome_note, agreement_facts, agreement_terms, performance_method, judicial_status, follow_up,
    escalation_prevented, escalation_persons, group_defused, group_persons, area_id,
    registered_by_id, category_id, organisation_id, mediator_id
)
SELECT
    'DSP-B-' || lpad(i::text, 7, '0'), 'application', '', 'generated', 2, false, false,
    t.received,
    t.status,
    CASE WHEN i <= 190000 * 0.03 AND i % 3 > 0 THEN t.received + interval '30 days' END,
    false, '', '', '', '[]', '', '', '', '', '', '', false, 0, false, 0, seat.community_id,
    demo.user_id, 1 + (i % 5), t.org_id,
    CASE
        WHEN t.status = 'registered' THEN NULL
        WHEN o.id = demo.org_id AND pg_temp.h(i, 13) < 0.5 THEN demo.user_id
        ELSE m.user_id
    END
FROM generate_series(1, 190000) AS i
JOIN seat ON seat.n = floor(1746 * pg_temp.h(i, 8))::int
CROSS JOIN LATERAL (
    SELECT
        now() - (i / 190000.0) * interval '1095 days' AS received,
        CASE WHEN i <= 190000 * 0.03 THEN (ARRAY['registered', 'accepted', 'in_mediation'])[1 + (i % 3)] ELSE 'closed' END
            AS status,
        CASE
            WHEN pg_temp.h(i, 11) < 0.62 THEN seat.committee
            WHEN pg_temp.h(i, 11) < 0.87 THEN seat.street_centre
            WHEN pg_temp.h(i, 11) < 0.93 THEN seat.police_joint
            WHEN pg_temp.h(i, 11) < 0.98 THEN seat.district_centre
            ELSE seat.industry
        END AS org_id
) AS t
JOIN org o ON o.id = t.org_id
JOIN mediator m ON m.org_id = o.id AND m.n = 1 + floor(o.staff * pg_temp.h(i, 12))::int
CROSS JOIN (
    SELECT mm.organisation_id AS org_id, u.id AS user_id
    FROM mediation_organisationmember mm JOIN governance_user u ON u.id = mm.user_id
    WHERE u.username = 'demo_mediator'
) AS demo
ORDER BY i;  -- in order of arrival, as on a live database

COMMIT;
VACUUM ANALYZE petitions_petition;
VACUUM ANALYZE grids_incident;
VACUUM ANALYZE grids_incidentevent;
VACUUM ANALYZE grids_incident_supporting_departments;
VACUUM ANALYZE mediation_disputecase;
VACUUM ANALYZE mediation_mediationorganisation;
VACUUM ANALYZE mediation_organisationmember;
VACUUM ANALYZE governance_user;
VACUUM ANALYZE governance_membership;
