UNWIND $rows AS row
MATCH (i:Item {dataset: $dataset, id: row.id})
SET i.description = row.text, i.description_model = $model
