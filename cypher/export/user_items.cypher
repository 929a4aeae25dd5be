// The items each of $users interacted with in the graph, one row per user that exists.
UNWIND $users AS id
MATCH (u:User {dataset: $dataset, id: id})
OPTIONAL MATCH (u)-[:INTERACTED]->(i:Item)
RETURN id AS user, collect(DISTINCT i.id) AS items
