// Nearest items to one item by text embedding; the index spans datasets, so over-fetch.
MATCH (i:Item {dataset: $dataset, id: $item})
WHERE i.embedding IS NOT NULL
CALL db.index.vector.queryNodes($index, $candidates, i.embedding) YIELD node, score
WITH node, score
WHERE node.dataset = $dataset AND node.id <> $item
RETURN node.id AS item, node.title AS title, score
ORDER BY score DESC
LIMIT $k
