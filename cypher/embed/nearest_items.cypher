// Nearest items of one dataset to a query vector (over-fetch and filter, as similar_items).
CALL db.index.vector.queryNodes($index, $candidates, $vector) YIELD node, score
WITH collect({node: node, score: score}) AS hits
RETURN size(hits) AS fetched,
       [hit IN hits WHERE hit.node.dataset = $dataset
        | {item: hit.node.id, title: hit.node.title, score: hit.score}][..$k] AS found
