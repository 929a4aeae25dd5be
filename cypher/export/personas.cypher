// The users holding the current persona version, as two aligned lists.
MATCH (u:User {dataset: $dataset})
WHERE u.persona_version = $version
RETURN collect(u.id) AS ids, collect(u.persona) AS vectors
