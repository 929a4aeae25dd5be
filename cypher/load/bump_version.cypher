// Any change to the graph's content gives the dataset a new version (export caches key on it).
MATCH (d:Dataset {dataset: $dataset, id: $dataset})
SET d.graph_version = $version
RETURN d.graph_version AS version
