// What each of some users shares with one user in the graph: items both chose, and the
// named attributes (then unnamed entities) that link their items, most links first.
MATCH (u:User {dataset: $dataset, id: $user})
UNWIND $neighbours AS neighbour
MATCH (node:User {dataset: $dataset, id: neighbour.user})
OPTIONAL MATCH (u)-[:INTERACTED]->(i:Item)<-[:INTERACTED]-(node)
WITH u, node, neighbour, collect(coalesce(i.title, i.id))[..$max_shared] AS shared_items
OPTIONAL MATCH (u)-[:INTERACTED]->(:Item)--(a)--(:Item)<-[:INTERACTED]-(node)
WHERE (a:Genre OR a:Category OR a:Resource OR a:Entity OR a:Attribute)
WITH node, neighbour, shared_items, a, count(*) AS weight
ORDER BY a.name IS NULL, weight DESC
WITH node, neighbour, shared_items,
     collect(CASE WHEN a IS NULL THEN NULL ELSE coalesce(a.name, a.id) END)[..$max_shared]
       AS shared_attributes
RETURN node.id AS user, neighbour.score AS score, shared_items, shared_attributes
ORDER BY score DESC
