// A user vector with the text and model it came from (e.g. the LLM persona baseline).
UNWIND $rows AS row
MATCH (u:User {dataset: $dataset, id: row.id})
CALL db.create.setNodeVectorProperty(u, $property, row.vector)
SET u.llm_persona_text = row.text, u.llm_persona_model = $model
