UNWIND $rows AS row
MATCH (u:User) WHERE elementId(u) = row.h AND u.dataset = $dataset
MATCH (i:Item) WHERE elementId(i) = row.t AND i.dataset = $dataset
CREATE (u)-[:INTERACTED {
  rating: row.rating, timestamp: row.timestamp, position: row.position, count: row.count
}]->(i)
