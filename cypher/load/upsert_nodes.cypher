UNWIND $rows AS row
MERGE (n:{{label}} {dataset: $dataset, id: row.id})
SET n += row.props
