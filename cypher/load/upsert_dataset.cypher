MERGE (d:Dataset {dataset: $dataset, id: $dataset})
SET d += $props
