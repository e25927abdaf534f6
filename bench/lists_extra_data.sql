-- The governance lists' rows at city scale (docs/benchmarks.md "Every list's filters"): 300,000 audit
-- entries over three years (hand entries, approvals, decisions of the city's administrators) and
-- 60,000 notifications of the demo district handler (three years of a district centre's notices).
-- Run after bench/lists_data.sql on the same throw-away database; deletes what it wrote before.
\set ON_ERROR_STOP on
BEGIN;
DELETE FROM governance_auditentry WHERE action LIKE 'bench_%';
DELETE FROM governance_notification WHERE key LIKE 'bench:%';
INSERT INTO governance_auditentry (at, action, object_type, object_id, actor_id)
SELECT now() - (i / 300000.0) * interval '1095 days',
       'bench_' || (ARRAY['approve', 'enter', 'decide', 'veto', 'import'])[1 + i % 5],
       (ARRAY['survey', 'casecount', 'assessment', 'membership'])[1 + i % 4],
       i::text,
       (SELECT id FROM governance_user WHERE username = 'demo_admin')
FROM generate_series(1, 300000) AS i;
INSERT INTO governance_notification (user_id, key, message, texts, link, created_at, read_at)
SELECT u.id, 'bench:' || i, '新事件 INC-2026-' || lpad(i::text, 6, '0'), '{}', '',
       now() - (i / 60000.0) * interval '1095 days',
       CASE WHEN i > 40 THEN now() END
FROM generate_series(1, 60000) AS i, governance_user u WHERE u.username = 'demo_district';
COMMIT;
VACUUM ANALYZE governance_auditentry;
VACUUM ANALYZE governance_notification;
