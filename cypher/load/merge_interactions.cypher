UNWIND $rows AS row
MATCH (u:User) WHERE elementId(u) = row.h AND u.dataset = $dataset
MATCH (i:Item) WHERE elementId(i) = row.t AND i.dataset = $dataset
MERGE (u)-[r:INTERACTED]->(i)
SET r.rating = row.rating, r.timestamp = row.timestamp, r.position = row.position,
    r.count = row.count
