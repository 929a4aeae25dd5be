MATCH (n:{{label}} {dataset: $dataset})
CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF $batch_size ROWS
