// Endpoints by element id, read for this dataset just before (load/element_ids).
// No dataset predicate here: it would let the planner trade the id seek for an index scan.
UNWIND $rows AS row
MATCH (u:User) WHERE elementId(u) = row.h
MATCH (i:Item) WHERE elementId(i) = row.t
CREATE (u)-[:INTERACTED {
  rating: row.rating, timestamp: row.timestamp, position: row.position, count: row.count
}]->(i)
