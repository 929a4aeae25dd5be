// Ids and one vector property of a dataset's users, as two aligned lists (a missing vector
// becomes [] so rows stay aligned), with the model that made the vectors.
MATCH (u:User {dataset: $dataset})
RETURN collect(u.id) AS ids,
       collect(coalesce(u.{{property}}, [])) AS vectors,
       collect(DISTINCT u.{{property}}_model) AS models
