// The phase is done: recorded, and its batch keys (load/claim_batch) are no longer needed.
MATCH (d:Dataset {dataset: $dataset, id: $dataset})
SET d.phases_done = [phase IN coalesce(d.phases_done, []) WHERE phase <> $phase] + $phase,
    d.batches_written = [key IN coalesce(d.batches_written, []) WHERE NOT key STARTS WITH $batch_prefix]
