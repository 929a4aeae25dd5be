MATCH (n:{{label}} {dataset: $dataset})
RETURN n.id AS id, n.name AS name, n.embedding_model AS model, n.embedding_text_hash AS hash
