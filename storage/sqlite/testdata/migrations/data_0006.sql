-- Data of a database at schema version 6, as Tern wrote it: used by
-- TestMigrationsKeepData to upgrade it to the latest version.
INSERT INTO accounts (id, jid, resource, server, display_name, enabled, created, roster_ver)
VALUES (1, 'romeo@montague.example', 'orchard', '', 'Romeo', 1, 1700000000000000, 'ver7');

INSERT INTO roster_items (account, jid, name, subscription, ask, approved) VALUES
    (1, 'juliet@capulet.example', 'Juliet', 3, 0, 0),
    (1, 'benvolio@montague.example', 'Benvolio', 1, 1, 0);
INSERT INTO roster_groups (account, jid, name) VALUES
    (1, 'juliet@capulet.example', 'Verona'),
    (1, 'juliet@capulet.example', 'Family?');
INSERT INTO subscription_requests (account, jid, nick, status, received)
VALUES (1, 'tybalt@capulet.example', 'Tybalt', 'Let me see your presence', 1700000100000000);

INSERT INTO conversations (id, account, peer, kind, encryption, created, last_ts, last_read_ts, last_read_id, unread, pinned, archived)
VALUES (1, 1, 'juliet@capulet.example', 1, 0, 1700000000000000, 1700000300000000, 1700000200000000, 2, 1, 1700000400000000, 0),
       (2, 1, 'verona@rooms.example', 2, 2, 1700000000000000, NULL, NULL, NULL, 0, NULL, 1);

INSERT INTO archives (id, account, jid) VALUES (1, 1, 'romeo@montague.example');

-- Since 0004 a message's first stanza-id is in its row.
-- Since 0006 an inbound message says whether it asked for chat markers.
INSERT INTO messages (id, conversation, ts, direction, type, sender, origin_id, xml_id, sent_ts, server_ts, received_ts, body, lang, state,
    archive, stanza_id, markable)
VALUES
    (1, 1, 1700000100000000, 2, 2, 'romeo@montague.example', 'o-1', NULL, 1700000100000000, 1700000100000000, NULL,
     'But soft, what light through yonder window breaks?', 'en', 4, 1, 'stanza-1', 0),
    (2, 1, 1700000200000000, 1, 2, 'juliet@capulet.example', 'o-2', 'x-2', 1700000199000000, 1700000200000000, 1700000201000000,
     'Wherefore art thou Romeo?', 'en', 0, 1, 'stanza-2', 1),
    (3, 1, 1700000300000000, 1, 2, 'juliet@capulet.example', 'o-3', NULL, NULL, 1700000300000000, 1700000301000000,
     'Parting is such sweet sorrow', 'en', 0, 1, 'stanza-3', 0);
INSERT INTO messages (id, conversation, ts, direction, type, sender, origin_id, body, replaces, archive, stanza_id)
VALUES (4, 1, 1700000310000000, 1, 2, 'juliet@capulet.example', 'o-4', 'Parting is such sweet sorrow!', 3, 1, 'stanza-4');
INSERT INTO message_bodies (message, lang, body) VALUES (2, 'it', 'Perché sei tu Romeo?');

INSERT INTO reactions (message, sender, emoji, ts) VALUES (1, 'juliet@capulet.example', '❤️', 1700000150000000);
INSERT INTO attachments (id, message, url, media_type, name, size, width, height)
VALUES (1, 3, 'https://upload.capulet.example/balcony.jpg', 'image/jpeg', 'balcony.jpg', 120000, 800, 600);
INSERT INTO outbox (id, account, message, payload, created, attempts) VALUES
    (1, 1, 1, NULL, 1700000100000000, 1),
    (2, 1, NULL, X'3c6d6573736167652f3e', 1700000100000000, 0);
INSERT INTO mam_cursors (archive, with_jid, newest, newest_ts, oldest, oldest_ts, complete)
VALUES (1, '', 'stanza-4', 1700000310000000, 'stanza-1', 1700000100000000, 1);
INSERT INTO disco_cache (algo, ver, info, stored)
VALUES ('sha-1', 'QgayPKawpkPSDYmwT/WM94uAlu0=', X'3c71756572792f3e', 1700000000000000);
INSERT INTO avatars (hash, media_type, width, height, data, stored)
VALUES ('a9993e364706816aba3e25717850c26c9cd0d89d', 'image/png', 1, 1, X'616263', 1700000000000000);
INSERT INTO contact_avatars (account, jid, hash) VALUES (1, 'juliet@capulet.example', 'a9993e364706816aba3e25717850c26c9cd0d89d');
INSERT INTO blocklist (account, jid) VALUES (1, 'tybalt@capulet.example');

-- The second stanza-id of message 2: a copy of it in the room's archive.
INSERT INTO archives (id, account, jid) VALUES (2, 1, 'verona@rooms.example');
INSERT INTO message_stanza_ids (archive, stanza_id, message) VALUES (2, 'room-stanza-2', 2);

-- OMEMO state (the private parts are opaque sealed blobs).
INSERT INTO omemo_identity (account, device_id, public_key, private_sealed, created)
VALUES (1, 4711, X'0521', X'53ea1ed1', 1700000000000000);
INSERT INTO omemo_prekeys (account, id, public_key, private_sealed) VALUES (1, 1, X'0522', X'53ea1ed2');
INSERT INTO omemo_signed_prekeys (account, id, public_key, private_sealed, signature, created)
VALUES (1, 1, X'0523', X'53ea1ed3', X'5167', 1700000000000000);
INSERT INTO omemo_sessions (account, jid, device, record_sealed, updated)
VALUES (1, 'juliet@capulet.example', 42, X'53ea1ed4', 1700000000000000);
INSERT INTO omemo_devices (account, jid, device, active, first_seen, last_seen)
VALUES (1, 'juliet@capulet.example', 42, 1, 1700000000000000, 1700000000000000);
INSERT INTO omemo_trust (account, jid, device, identity_key, state, first_seen, decided)
VALUES (1, 'juliet@capulet.example', 42, X'0524', 1, 1700000000000000, 1700000000000000);
