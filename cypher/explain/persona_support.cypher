// The users nearest to a persona vector (the User.persona vector index) and, for each
// recommended item, which of them chose it in training: the persona neighbourhood that
// supports a recommendation. The index spans every dataset, so candidates are over-fetched.
CALL db.index.vector.queryNodes($index, $candidates, $persona) YIELD node, score
WITH node, score
WHERE node.dataset = $dataset AND NOT node.id IN $exclude
ORDER BY score DESC
LIMIT $neighbours
WITH collect(node) AS near
UNWIND $items AS id
MATCH (i:Item {dataset: $dataset, id: id})
RETURN id AS item,
       [u IN near WHERE EXISTS { (u)-[:INTERACTED]->(i) } | u.id] AS users,
       size(near) AS neighbours
