// Who holds the persona writer lock, and until when (epoch seconds).
MATCH (d:Dataset {dataset: $dataset, id: $dataset})
RETURN d.persona_writer AS holder, d.persona_writer_expires AS expires
