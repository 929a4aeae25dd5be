// A user whose interactions arrive after ingestion: the user node, and one INTERACTED edge
// per item in $items (items the dataset lacks were refused before this runs), in order.
MERGE (u:User {dataset: $dataset, id: $user})
WITH u
UNWIND range(0, size($items) - 1) AS k
MATCH (i:Item {dataset: $dataset, id: $items[k]})
MERGE (u)-[r:INTERACTED]->(i)
ON CREATE SET r.count = 0
SET r.count = r.count + 1, r.position = coalesce(r.position, k)
RETURN count(*) AS edges
