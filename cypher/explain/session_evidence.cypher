// How each recommended item connects to the session's items in the knowledge graph: a direct
// item-item relation (e.g. a sequel), or an attribute or entity both have (a genre, a
// director, a DBpedia subject). Interactions are not evidence here; personas cover them.
// The type list holds every allow-listed type but INTERACTED, so the expansions use Neo4j's
// per-type relationship groups and never walk an item's (many) interactions.
MATCH (s:Item {dataset: $dataset})
WHERE s.id IN $session
WITH collect(s) AS sessionItems
UNWIND $items AS id
MATCH (i:Item {dataset: $dataset, id: id})
CALL {
  WITH i, sessionItems
  UNWIND sessionItems AS s
  MATCH p = (i)-[:{{types}}]-(s)
  WHERE s <> i
  RETURN p, 0 AS hops
  UNION
  WITH i, sessionItems
  UNWIND sessionItems AS s
  MATCH p = (i)-[:{{types}}]-(a)-[:{{types}}]-(s)
  WHERE s <> i AND (a:Genre OR a:Category OR a:Resource OR a:Entity OR a:Attribute)
  RETURN p, 1 AS hops
}
WITH id, p, hops
ORDER BY hops, nodes(p)[1].name IS NULL
WITH id, collect(p)[..$max_paths] AS paths
RETURN id AS item,
       [p IN paths | {
         nodes: [n IN nodes(p) | {label: labels(n)[0], id: n.id, name: coalesce(n.name, n.title)}],
         types: [r IN relationships(p) | type(r)]
       }] AS paths
