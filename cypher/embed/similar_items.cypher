// Nearest items to one item by text embedding. The index spans datasets and 5.26 cannot
// filter inside the search, so it over-fetches $candidates; `fetched` tells the caller
// whether widening the search could find more.
MATCH (i:Item {dataset: $dataset, id: $item})
WHERE i.embedding IS NOT NULL
CALL db.index.vector.queryNodes($index, $candidates, i.embedding) YIELD node, score
WITH collect({node: node, score: score}) AS hits
RETURN size(hits) AS fetched,
       [hit IN hits WHERE hit.node.dataset = $dataset AND hit.node.id <> $item
        | {item: hit.node.id, title: hit.node.title, score: hit.score}][..$k] AS found
