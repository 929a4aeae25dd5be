// One user's persona and where it came from (null fields when the user has none).
MATCH (u:User {dataset: $dataset, id: $user})
RETURN u.id AS user, u.persona AS persona, u.persona_version AS version,
       u.persona_model AS model, u.persona_updated_at AS updated_at,
       COUNT { (u)-[:INTERACTED]->(:Item) } AS interactions
