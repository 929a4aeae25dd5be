// Ids and one vector property of one label, as two aligned lists in one record (cheap for
// the client). collect() skips nulls, so a missing vector becomes [] to keep rows aligned.
MATCH (n:{{label}} {dataset: $dataset})
RETURN collect(n.id) AS ids, collect(coalesce(n.{{property}}, [])) AS vectors
