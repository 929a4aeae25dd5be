// Ids and embeddings of one label, as two aligned lists in one record (cheap for the
// client). collect() skips nulls, so a missing embedding becomes [] to keep rows aligned.
MATCH (n:{{label}} {dataset: $dataset})
RETURN collect(n.id) AS ids, collect(coalesce(n.embedding, [])) AS embeddings
