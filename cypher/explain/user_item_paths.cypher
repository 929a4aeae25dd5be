// The shortest knowledge-graph paths from a user to an item (at most 4 hops): how the item
// connects to what the user already knows (shared genres, entities, co-users).
MATCH (u:User {dataset: $dataset, id: $user}), (i:Item {dataset: $dataset, id: $item})
MATCH p = allShortestPaths((u)-[*..4]-(i))
WHERE none(n IN nodes(p) WHERE n:Dataset)
RETURN [n IN nodes(p) | {label: labels(n)[0], id: n.id, name: coalesce(n.name, n.title)}]
         AS nodes,
       [r IN relationships(p) | type(r)] AS types
LIMIT $k
