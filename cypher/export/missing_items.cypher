// Which of $items the dataset has no Item node for.
UNWIND $items AS id
OPTIONAL MATCH (i:Item {dataset: $dataset, id: id})
WITH id, i WHERE i IS NULL
RETURN collect(id) AS missing
