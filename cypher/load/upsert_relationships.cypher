UNWIND $rows AS row
MATCH (h:{{head}} {dataset: $dataset, id: row.head})
MATCH (t:{{tail}} {dataset: $dataset, id: row.tail})
MERGE (h)-[r:{{type}}]->(t)
SET r += row.props
