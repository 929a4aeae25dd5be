// Endpoints by element id, read for this dataset just before (load/element_ids).
// No dataset predicate here: it would let the planner trade the id seek for an index scan.
UNWIND $rows AS row
MATCH (h:{{head}}) WHERE elementId(h) = row.h
MATCH (t:{{tail}}) WHERE elementId(t) = row.t
MERGE (h)-[:{{type}}]->(t)
