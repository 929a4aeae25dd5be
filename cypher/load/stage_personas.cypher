// Stage a new persona version beside the current one; readers keep seeing the current one.
UNWIND $rows AS row
MATCH (u:User {dataset: $dataset, id: row.id})
CALL db.create.setNodeVectorProperty(u, $property, row.vector)
SET u.persona_staged_version = $version
