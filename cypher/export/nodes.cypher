// One page of ids and one vector property of one label, in id order after $after, as two
// aligned lists, at most $page long. collect() skips nulls, so a missing vector becomes []
// to keep rows aligned.
MATCH (n:{{label}} {dataset: $dataset})
WHERE n.id > $after
WITH n ORDER BY n.id LIMIT $page
RETURN collect(n.id) AS ids, collect(coalesce(n.{{property}}, [])) AS vectors
