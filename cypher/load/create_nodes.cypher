UNWIND $rows AS row
CREATE (n:{{label}} {dataset: $dataset, id: row.id})
SET n += row.props
