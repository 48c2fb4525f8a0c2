-- Each batch of the current clean snapshot against the whole snapshot (the
-- data training reads), column by column: the population stability index
-- PSI = sum over values of (p_batch - p_all) * ln(p_batch / p_all) and the
-- total variation distance 0.5 * sum |p_batch - p_all|, over the values of
-- the column (missing counted as a value; shares floored at 1e-4 so that a
-- value absent from one side stays finite). Numeric columns are compared
-- value by value: they are small integer counts and durations.
COPY (
    WITH cols(col) AS (
        VALUES ('race'), ('gender'), ('age'), ('admission_type_id'),
               ('discharge_disposition_id'), ('admission_source_id'), ('time_in_hospital'),
               ('num_procedures'), ('number_inpatient'), ('number_emergency'),
               ('number_diagnoses'), ('max_glu_serum'), ('A1Cresult'), ('insulin'),
               ('change'), ('diabetesMed')
    ),
    v AS (
        SELECT e.batch_id, cols.col, coalesce(to_jsonb(e) ->> cols.col, '(missing)') AS val
        FROM clean.encounters e CROSS JOIN cols
    ),
    cnt AS (SELECT col, batch_id, val, count(*)::float8 AS n FROM v GROUP BY 1, 2, 3),
    vals AS (SELECT col, val, sum(n) AS n FROM cnt GROUP BY 1, 2),
    allrows AS (SELECT col, sum(n) AS n FROM vals GROUP BY 1),
    brows AS (SELECT col, batch_id, sum(n) AS n FROM cnt GROUP BY 1, 2),
    grid AS (
        SELECT b.col, b.batch_id, b.n AS rows,
               greatest(coalesce(c.n, 0) / b.n, 1e-4) AS pb,
               greatest(a.n / t.n, 1e-4) AS pa
        FROM brows b
        JOIN allrows t USING (col)
        JOIN vals a ON a.col = b.col
        LEFT JOIN cnt c ON c.col = b.col AND c.batch_id = b.batch_id AND c.val = a.val
    )
    SELECT col, batch_id, max(rows)::bigint,
           round(sum((pb - pa) * ln(pb / pa))::numeric, 6),
           round((0.5 * sum(abs(pb - pa)))::numeric, 6)
    FROM grid
    GROUP BY col, batch_id
    ORDER BY col, batch_id
) TO STDOUT
