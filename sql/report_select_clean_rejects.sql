SELECT coalesce(jsonb_agg(jsonb_build_object('rule', g.rule, 'severity', g.severity, 'count', g.n,
                                             'examples', g.ex)
                          ORDER BY g.n DESC, g.rule), '[]'::jsonb)::text
FROM (
    SELECT r.rule, r.severity, count(*) AS n,
           (SELECT jsonb_agg(jsonb_build_object('batch_id', e.batch_id, 'line_no', e.line_no,
                                                'encounter_id', e.encounter_id,
                                                'detail', left(e.detail, 300))
                             ORDER BY e.batch_id, e.line_no)
              FROM (SELECT e2.batch_id, e2.line_no, e2.encounter_id, e2.detail FROM clean.rejects e2
                     WHERE e2.rule = r.rule AND e2.severity = r.severity
                     ORDER BY e2.batch_id, e2.line_no LIMIT 3) e) AS ex
    FROM clean.rejects r
    GROUP BY r.rule, r.severity
    ORDER BY count(*) DESC, r.rule
    LIMIT 50
) g
