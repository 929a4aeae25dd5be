MATCH (d:Dataset {dataset: $dataset, id: $dataset})
SET d.phases_started = [phase IN coalesce(d.phases_started, []) WHERE phase <> $phase] + $phase
