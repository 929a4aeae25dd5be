UNWIND $rows AS row
MATCH (h:{{head}}) WHERE elementId(h) = row.h AND h.dataset = $dataset
MATCH (t:{{tail}}) WHERE elementId(t) = row.t AND t.dataset = $dataset
CREATE (h)-[:{{type}}]->(t)
