SELECT coalesce(jsonb_agg(jsonb_build_object('column', s.col, 'value', s.val, 'count', s.n)
                          ORDER BY s.n DESC, s.col, s.val), '[]'::jsonb)::text
FROM (
    SELECT c.col, c.val, count(*) AS n
    FROM clean.encounters e
    -- free-text-like columns (weight, max_glu_serum and A1Cresult use '>' in their levels)
    CROSS JOIN LATERAL (VALUES ('race', e."race"), ('gender', e."gender"), ('age', e."age"),
                               ('payer_code', e."payer_code"),
                               ('medical_specialty', e."medical_specialty"),
                               ('diag_1', e."diag_1"), ('diag_2', e."diag_2"),
                               ('diag_3', e."diag_3")) AS c (col, val)
    WHERE c.val ~ '[<>"''`]' OR c.val ~ '[[:cntrl:]]'
    GROUP BY c.col, c.val
    ORDER BY count(*) DESC, c.col, c.val
    LIMIT 50
) s
