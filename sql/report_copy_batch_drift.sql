-- Each batch of the current clean snapshot against the whole snapshot (the
-- data training reads), column by column: the population stability index
-- PSI = sum over values of (p_batch - p_all) * ln(p_batch / p_all) and the
-- total variation distance 0.5 * sum |p_batch - p_all|, over the values of
-- the column (missing counted as a value; shares floored at 1e-4 so that a
-- value absent from one side stays finite). Numeric columns are compared
-- value by value: they are small integer counts and durations.
COPY (
    WITH
    -- one pass over the rows, the 16 columns unpivoted by name (integers as
    -- their decimal text, as to_jsonb would give them)
    v AS (
        SELECT e.batch_id, x.col, coalesce(x.val, '(missing)') AS val
        FROM clean.encounters e
        CROSS JOIN LATERAL (VALUES
            ('race', e.race), ('gender', e.gender), ('age', e.age),
            ('admission_type_id', e.admission_type_id::text),
            ('discharge_disposition_id', e.discharge_disposition_id::text),
            ('admission_source_id', e.admission_source_id::text),
            ('time_in_hospital', e.time_in_hospital::text),
            ('num_procedures', e.num_procedures::text),
            ('number_inpatient', e.number_inpatient::text),
            ('number_emergency', e.number_emergency::text),
            ('number_diagnoses', e.number_diagnoses::text),
            ('max_glu_serum', e.max_glu_serum), ('A1Cresult', e."A1Cresult"),
            ('insulin', e.insulin), ('change', e.change), ('diabetesMed', e."diabetesMed")
        ) AS x(col, val)
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
