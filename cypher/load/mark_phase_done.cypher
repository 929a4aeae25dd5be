MATCH (d:Dataset {dataset: $dataset, id: $dataset})
SET d.phases_done = [phase IN coalesce(d.phases_done, []) WHERE phase <> $phase] + $phase
