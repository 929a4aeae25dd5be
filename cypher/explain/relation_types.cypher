// The relationship types of the dataset (one Relation node each).
MATCH (r:Relation {dataset: $dataset})
RETURN collect(r.id) AS types
