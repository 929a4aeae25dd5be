// How many nodes of one label carry one vector property.
MATCH (n:{{label}} {dataset: $dataset})
WHERE n.{{property}} IS NOT NULL
RETURN count(n) AS count
