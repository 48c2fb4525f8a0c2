SELECT coalesce(jsonb_agg(jsonb_build_object('reason', g.reason, 'count', g.n, 'examples', g.ex)
                          ORDER BY g.n DESC, g.reason), '[]'::jsonb)::text
FROM (
    SELECT r.reason, count(*) AS n,
           (SELECT jsonb_agg(jsonb_build_object('batch_id', e.batch_id, 'line_no', e.line_no,
                                                'hex', encode(substring(e.raw_text FROM 1 FOR 240), 'hex'))
                             ORDER BY e.batch_id, e.line_no)
              FROM (SELECT e2.batch_id, e2.line_no, e2.raw_text FROM raw.rejects e2
                     WHERE e2.reason = r.reason ORDER BY e2.batch_id, e2.line_no LIMIT 3) e) AS ex
    FROM raw.rejects r
    GROUP BY r.reason
    ORDER BY count(*) DESC, r.reason
    LIMIT 50
) g
