// Personas of users added after training, in the current version only: nothing is written
// when another version was published meanwhile (the caller compares the count).
MATCH (d:Dataset {dataset: $dataset, id: $dataset})
WHERE d.persona_version = $version
UNWIND $rows AS row
MATCH (u:User {dataset: $dataset, id: row.id})
CALL db.create.setNodeVectorProperty(u, $property, row.vector)
SET u.persona_version = $version, u.persona_model = d.persona_model,
    u.persona_updated_at = $updated_at
RETURN count(u) AS written
