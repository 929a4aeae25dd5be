// One page of ids and element ids, in id order after $after: two lists in one record (far
// cheaper for the client than one record per node), at most $page long.
MATCH (n:{{label}} {dataset: $dataset})
WHERE n.id > $after
WITH n ORDER BY n.id LIMIT $page
RETURN collect(n.id) AS ids, collect(elementId(n)) AS element_ids
