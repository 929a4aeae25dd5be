// Seqlock, step 3: an even sequence number again; readers that began before it retry.
MATCH (d:Dataset {dataset: $dataset, id: $dataset})
SET d.persona_seq = d.persona_seq + 1
RETURN d.persona_seq AS seq
