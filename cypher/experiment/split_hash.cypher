// The SHA-256 of the split file recorded when the dataset was ingested.
MATCH (d:Dataset {dataset: $dataset, id: $dataset})
RETURN d.split_sha256 AS split_sha256
