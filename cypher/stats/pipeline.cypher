// Where one dataset stands in the pipeline: ingestion, vectors, personas.
MATCH (d:Dataset {dataset: $dataset, id: $dataset})
CALL {
  MATCH (u:User {dataset: $dataset})
  // publishing gives every user the new version, or none
  RETURN count(u) AS users, count(u.persona_version) AS with_persona
}
CALL {
  MATCH (i:Item {dataset: $dataset})
  RETURN count(i) AS items, count(i.embedding) AS embedded_items
}
CALL {
  MATCH (r:Relation {dataset: $dataset})
  RETURN count(r) AS relations, count(r.embedding) AS embedded_relations
}
RETURN d.ingested_at AS ingested_at,
       coalesce(d.phases_started, []) AS phases_started,
       coalesce(d.phases_done, []) AS phases_done,
       d.split_sha256 AS split_sha256,
       d.persona_version AS persona_version, d.persona_model AS persona_model,
       users, with_persona, items, embedded_items, relations, embedded_relations
