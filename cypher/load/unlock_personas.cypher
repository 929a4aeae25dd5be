// Release the persona writer lock, only if this writer still holds it.
MATCH (d:Dataset {dataset: $dataset, id: $dataset})
WHERE d.persona_writer = $writer
REMOVE d.persona_writer, d.persona_writer_expires
