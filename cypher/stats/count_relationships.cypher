MATCH (n:{{label}} {dataset: $dataset})-[r]->()
RETURN type(r) AS type, count(r) AS count
