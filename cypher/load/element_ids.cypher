MATCH (n:{{label}} {dataset: $dataset})
RETURN n.id AS id, elementId(n) AS element_id
