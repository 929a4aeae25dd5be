// The users nearest to a persona vector (the User.persona vector index) and, for each
// recommended item, which of them chose it in training: the persona neighbourhood that
// supports a recommendation. The index spans every dataset, so candidates are over-fetched
// (fetched < candidates means the index had no more).
CALL db.index.vector.queryNodes($index, $candidates, $persona) YIELD node, score
WITH node, score
ORDER BY score DESC
WITH collect(node) AS hits
WITH size(hits) AS fetched,
     [n IN hits WHERE n.dataset = $dataset AND NOT n.id IN $exclude][..$neighbours] AS near
UNWIND $items AS id
MATCH (i:Item {dataset: $dataset, id: id})
RETURN id AS item,
       [u IN near WHERE EXISTS { (u)-[:INTERACTED]->(i) } | u.id] AS users,
       size(near) AS neighbours, fetched
