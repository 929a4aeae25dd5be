// The text models that made the dataset's item vectors (none where items have no text).
MATCH (i:Item {dataset: $dataset})
WHERE i.embedding_model IS NOT NULL
RETURN collect(DISTINCT i.embedding_model) AS models
