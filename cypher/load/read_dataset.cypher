MATCH (d:Dataset {dataset: $dataset, id: $dataset})
RETURN d.fingerprint AS fingerprint, coalesce(d.phases_done, []) AS phases_done
