MATCH (d:Dataset {dataset: $dataset, id: $dataset})
RETURN d.fingerprint AS fingerprint,
       coalesce(d.phases_started, []) AS phases_started,
       coalesce(d.phases_done, []) AS phases_done
