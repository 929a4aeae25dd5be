// One page of the users holding the current persona version, in id order after $after, as
// two aligned lists, at most $page long.
MATCH (u:User {dataset: $dataset})
WHERE u.id > $after AND u.persona_version = $version
WITH u ORDER BY u.id LIMIT $page
RETURN collect(u.id) AS ids, collect(u.persona) AS vectors
