MATCH (h:{{label}} {dataset: $dataset})-[r]->(t)
RETURN type(r) AS type, labels(t)[0] AS tail, count(r) AS count
