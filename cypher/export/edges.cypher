// Tails of a chunk of head nodes: one record per chunk, memory bounded by the chunk.
UNWIND $heads AS head_id
MATCH (h:{{head}} {dataset: $dataset, id: head_id})-[:{{type}}]->(t:{{tail}})
WITH head_id, collect(t.id) AS tails
RETURN collect(head_id) AS heads, collect(tails) AS tails
