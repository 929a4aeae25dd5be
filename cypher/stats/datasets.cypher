MATCH (d:Dataset)
RETURN d.id AS dataset, d.fingerprint AS fingerprint, coalesce(d.phases_done, []) AS phases_done,
       d.ingested_at AS ingested_at
ORDER BY dataset
