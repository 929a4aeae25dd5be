// Nearest items of one dataset to a query vector.
CALL db.index.vector.queryNodes($index, $candidates, $vector) YIELD node, score
WITH node, score
WHERE node.dataset = $dataset
RETURN node.id AS item, node.title AS title, score
ORDER BY score DESC
LIMIT $k
