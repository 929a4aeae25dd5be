// One persona writer per dataset. The first SET takes the Dataset node's write lock before
// anything is read, so two writers cannot both see the lock free. The lock is free when
// nobody holds it, when its lease ran out, or when the caller found its holder dead
// ($stale: a writer on this machine whose process is gone).
MATCH (d:Dataset {dataset: $dataset, id: $dataset})
SET d.persona_lock_touched_at = $now
WITH d, d.persona_writer AS holder
WITH d, holder, holder IS NULL OR d.persona_writer_expires < $now OR holder = $stale AS free
SET d.persona_writer = CASE WHEN free THEN $writer ELSE holder END,
    d.persona_writer_expires = CASE WHEN free THEN $expires ELSE d.persona_writer_expires END
RETURN free AS acquired, holder, d.persona_writer_expires AS expires
