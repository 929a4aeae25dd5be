// Every item's id and title as [id, title] pairs (a null title stays in its pair), loaded
// once when serving starts.
MATCH (i:Item {dataset: $dataset})
RETURN collect([i.id, i.title]) AS items
