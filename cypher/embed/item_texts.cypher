// Each item's title, description and named attributes, with what its vector was made from,
// in id order: the texts reach the model in the same batches however the graph stores them.
MATCH (i:Item {dataset: $dataset})
OPTIONAL MATCH (i)--(a)
WHERE (a:Genre OR a:Category OR a:Resource OR a:Attribute) AND a.name IS NOT NULL
WITH i, a
ORDER BY a.name
WITH i, collect(CASE WHEN a IS NULL THEN NULL ELSE [labels(a)[0], a.name] END) AS attributes
RETURN i.id AS id, i.title AS title, i.description AS description, attributes,
       i.embedding_model AS model, i.embedding_text_hash AS hash
ORDER BY id
