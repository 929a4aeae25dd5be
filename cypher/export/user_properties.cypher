// The scalar properties of a dataset's users (vectors left out: they are large and no
// probe target), as [key, value-as-text] pairs per user.
MATCH (u:User {dataset: $dataset})
RETURN u.id AS id,
       [key IN keys(u) WHERE NOT u[key] IS :: LIST<ANY> | [key, toString(u[key])]]
         AS properties
