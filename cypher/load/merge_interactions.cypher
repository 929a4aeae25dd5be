UNWIND $rows AS row
MATCH (u:User) WHERE elementId(u) = row.h
MATCH (i:Item) WHERE elementId(i) = row.t
MERGE (u)-[r:INTERACTED]->(i)
SET r.rating = row.rating, r.timestamp = row.timestamp, r.position = row.position,
    r.count = row.count
