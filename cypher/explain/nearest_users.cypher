// Users nearest to one user by persona (vector index), with what they share in the graph.
MATCH (u:User {dataset: $dataset, id: $user})
WHERE u.persona IS NOT NULL
CALL db.index.vector.queryNodes($index, $candidates, u.persona) YIELD node, score
WITH u, node, score
WHERE node.dataset = $dataset AND node <> u
WITH u, node, score
ORDER BY score DESC
LIMIT $k
OPTIONAL MATCH (u)-[:INTERACTED]->(i:Item)<-[:INTERACTED]-(node)
WITH u, node, score, collect(coalesce(i.title, i.id))[..$max_shared] AS shared_items
OPTIONAL MATCH (u)-[:INTERACTED]->(:Item)--(a)--(:Item)<-[:INTERACTED]-(node)
WHERE (a:Genre OR a:Category OR a:Resource OR a:Entity OR a:Attribute)
WITH node, score, shared_items, a, count(*) AS weight
ORDER BY a.name IS NULL, weight DESC
WITH node, score, shared_items,
     collect(CASE WHEN a IS NULL THEN NULL ELSE coalesce(a.name, a.id) END)[..$max_shared]
       AS shared_attributes
RETURN node.id AS user, score, shared_items, shared_attributes
ORDER BY score DESC
