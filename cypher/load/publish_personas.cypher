// One transaction: every staged persona becomes current, and personas of other versions are
// removed. Read-committed readers can still see it half applied, so it runs inside the
// seqlock of begin/end_persona_publish, which kgstore.personas.read_personas honours.
MATCH (u:User {dataset: $dataset})
WITH u, u.persona_staged_version = $version AS staged
SET u.persona = CASE WHEN staged THEN u.persona_staged ELSE null END,
    u.persona_version = CASE WHEN staged THEN $version ELSE null END,
    u.persona_model = CASE WHEN staged THEN $model ELSE null END,
    u.persona_updated_at = CASE WHEN staged THEN $updated_at ELSE null END
REMOVE u.persona_staged, u.persona_staged_version
WITH count(*) AS users, sum(CASE WHEN staged THEN 1 ELSE 0 END) AS published
MATCH (d:Dataset {dataset: $dataset, id: $dataset})
SET d.persona_version = $version, d.persona_model = $model,
    d.persona_graph_version = $graph_version
RETURN users, published
