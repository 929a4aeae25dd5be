// Each named node of one label, with what its vector was made from, in id order (as items).
MATCH (n:{{label}} {dataset: $dataset})
RETURN n.id AS id, n.name AS name, n.embedding_model AS model, n.embedding_text_hash AS hash
ORDER BY id
