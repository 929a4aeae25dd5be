// Users nearest to one user by persona (the User.persona vector index). The index spans
// every dataset, so candidates are over-fetched and filtered; fetched < candidates means the
// index had no more, so a caller widening the pool knows when to stop.
MATCH (u:User {dataset: $dataset, id: $user})
WHERE u.persona IS NOT NULL
CALL db.index.vector.queryNodes($index, $candidates, u.persona) YIELD node, score
WITH u, node, score
ORDER BY score DESC
WITH u, collect({node: node, score: score}) AS hits
RETURN size(hits) AS fetched,
       [h IN hits WHERE h.node.dataset = $dataset AND h.node <> u
        | {user: h.node.id, score: h.score}][..$k] AS found
