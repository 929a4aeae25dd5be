// Each user's training items in time order, ties and missing times by file position (the
// last $max_history), for the LLM persona baseline.
MATCH (u:User {dataset: $dataset})-[r:INTERACTED]->(i:Item)
WITH u, r, i
ORDER BY coalesce(r.timestamp, 0), r.position
WITH u, collect(i.id) AS items
RETURN u.id AS user, items[-$max_history..] AS items, u.llm_persona_model AS model
ORDER BY user
