// One item: its text, how many training interactions it has, and its named neighbours.
MATCH (i:Item {dataset: $dataset, id: $item})
OPTIONAL MATCH (i)-[rel]-(a)
WHERE NOT a:User AND NOT a:Dataset
WITH i, a, collect(DISTINCT type(rel)) AS relations
ORDER BY a.name IS NULL, a.title IS NULL, relations[0]
WITH i, collect(CASE WHEN a IS NULL THEN NULL ELSE {
       label: labels(a)[0], id: a.id, name: coalesce(a.name, a.title), relations: relations
     } END)[..$max_attributes] AS attributes
RETURN i.id AS item, i.title AS title, i.description AS description,
       COUNT { (i)<-[:INTERACTED]-(:User) } AS interactions, attributes
