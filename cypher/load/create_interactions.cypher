UNWIND $rows AS row
MATCH (u:User) WHERE elementId(u) = row.h
MATCH (i:Item) WHERE elementId(i) = row.t
CREATE (u)-[:INTERACTED {
  rating: row.rating, timestamp: row.timestamp, position: row.position, count: row.count
}]->(i)
