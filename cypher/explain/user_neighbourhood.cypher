// A user's training items (most recent first) and each item's attributes/entities,
// named ones (genres, categories, resources) first.
MATCH (u:User {dataset: $dataset, id: $user})-[r:INTERACTED]->(i:Item)
WITH i, r
ORDER BY r.position DESC
LIMIT $max_items
OPTIONAL MATCH (i)-[rel]-(a)
WHERE NOT a:User AND NOT a:Dataset
WITH i, r, a, collect(DISTINCT type(rel)) AS relations
ORDER BY a.name IS NULL, a.title IS NULL, relations[0]
WITH i, r, collect(CASE WHEN a IS NULL THEN NULL ELSE {
       label: labels(a)[0], id: a.id, name: coalesce(a.name, a.title), relations: relations
     } END)[..$max_attributes] AS attributes
RETURN i.id AS item, i.title AS title, r.rating AS rating, r.position AS position, attributes
ORDER BY position DESC
