-- raw.record_field as 012 made it was STRICT around a CASE (not strict), so
-- the planner could not inline it: every value of the view raw.encounters
-- was a call of a SQL function (about 3 us each). The same function, not
-- STRICT, is inlined into the queries of the view (a NULL record or k gives
-- NULL all the same: split_part and strpos are strict).
CREATE OR REPLACE FUNCTION raw.record_field(record text, k integer) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN strpos(record, E'\x1e') = 0 THEN split_part(record, E'\x1f', k)
                ELSE replace(replace(split_part(record, E'\x1f', k), E'\x1e\x01', E'\x1f'),
                             E'\x1e\x02', E'\x1e') END;
