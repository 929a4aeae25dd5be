// Two lists in one record: far cheaper for the client than one record per node.
MATCH (n:{{label}} {dataset: $dataset})
RETURN collect(n.id) AS ids, collect(elementId(n)) AS element_ids
