MATCH (d:Dataset {dataset: $dataset, id: $dataset})
RETURN d.graph_version AS version
