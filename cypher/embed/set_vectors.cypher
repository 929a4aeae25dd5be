// Stored as float32 through the vector procedure, with what the vector was made from.
UNWIND $rows AS row
MATCH (n:{{label}} {dataset: $dataset, id: row.id})
CALL db.create.setNodeVectorProperty(n, $property, row.vector)
SET n.embedding_model = $model, n.embedding_dim = $dimension, n.embedding_text_hash = row.hash
