MATCH (i:Item {dataset: $dataset})
WHERE i.title IS NOT NULL AND ($force OR i.description IS NULL)
RETURN i.id AS id, i.title AS title
ORDER BY id
LIMIT $limit
