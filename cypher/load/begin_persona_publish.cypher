// Seqlock, step 1: an odd sequence number tells readers a publish is under way, so a read
// that overlaps it is retried (Neo4j reads are read-committed, not snapshots).
MATCH (d:Dataset {dataset: $dataset, id: $dataset})
SET d.persona_seq = coalesce(d.persona_seq, 0) + 1 + coalesce(d.persona_seq, 0) % 2
RETURN d.persona_seq AS seq
