MATCH (d:Dataset {dataset: $dataset, id: $dataset})
RETURN d.persona_seq AS seq, d.persona_version AS version, d.persona_model AS model,
       d.persona_graph_version AS graph_version
