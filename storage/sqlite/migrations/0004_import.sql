-- 0004: cheaper archive import.
--
-- A message's first XEP-0359 stanza-id moves into its row: importing a
-- message then inserts into one unique index (archive, stanza_id) instead
-- of a table row plus its index by message. message_stanza_ids keeps only
-- the further ones (a message seen in several archives, e.g. a room's and
-- our own), which are rare. One message per (archive, stanza-id) still
-- holds across both places: each place has its unique key, and triggers
-- refuse a key the other place holds.
ALTER TABLE messages ADD COLUMN archive INTEGER;   -- archives.id of stanza_id; no foreign key (see message_stanza_ids)
ALTER TABLE messages ADD COLUMN stanza_id TEXT;

UPDATE messages SET (archive, stanza_id) = (
    SELECT s.archive, s.stanza_id FROM message_stanza_ids s
    WHERE s.message = messages.id ORDER BY s.archive LIMIT 1)
WHERE id IN (SELECT message FROM message_stanza_ids);
DELETE FROM message_stanza_ids
WHERE (archive, stanza_id) IN (SELECT archive, stanza_id FROM messages WHERE stanza_id IS NOT NULL);

CREATE UNIQUE INDEX messages_stanza_id ON messages (archive, stanza_id) WHERE stanza_id IS NOT NULL;

CREATE TRIGGER messages_stanza_id_insert BEFORE INSERT ON messages
WHEN new.stanza_id IS NOT NULL AND EXISTS (
    SELECT 1 FROM message_stanza_ids WHERE archive = new.archive AND stanza_id = new.stanza_id) BEGIN
    SELECT RAISE(ABORT, 'UNIQUE constraint failed: stanza-id already stored');
END;

CREATE TRIGGER messages_stanza_id_update BEFORE UPDATE OF archive, stanza_id ON messages
WHEN new.stanza_id IS NOT NULL AND EXISTS (
    SELECT 1 FROM message_stanza_ids WHERE archive = new.archive AND stanza_id = new.stanza_id) BEGIN
    SELECT RAISE(ABORT, 'UNIQUE constraint failed: stanza-id already stored');
END;

CREATE TRIGGER message_stanza_ids_insert BEFORE INSERT ON message_stanza_ids
WHEN EXISTS (SELECT 1 FROM messages WHERE archive = new.archive AND stanza_id = new.stanza_id) BEGIN
    SELECT RAISE(ABORT, 'UNIQUE constraint failed: stanza-id already stored');
END;
