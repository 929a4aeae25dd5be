MATCH (n:{{label}} {dataset: $dataset})
RETURN count(n) AS count
