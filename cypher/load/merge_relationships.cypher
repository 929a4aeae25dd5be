UNWIND $rows AS row
MATCH (h:{{head}}) WHERE elementId(h) = row.h
MATCH (t:{{tail}}) WHERE elementId(t) = row.t
MERGE (h)-[:{{type}}]->(t)
