// A batch is written at most once: its key (phase, first row, row count) is recorded on the
// Dataset node in the same transaction as its rows. A retry of a batch whose commit went
// through but whose acknowledgement was lost finds its key, claims nothing, writes nothing.
MATCH (d:Dataset {dataset: $dataset, id: $dataset})
WHERE NOT $batch IN coalesce(d.batches_written, [])
SET d.batches_written = coalesce(d.batches_written, []) + $batch
RETURN count(d) AS claimed
