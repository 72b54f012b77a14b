-- Data of a database at schema version 1, as Tern wrote it: used by
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

INSERT INTO conversations (id, account, peer, kind, encryption, created, last_ts, last_read_ts, last_read_id, unread)
VALUES (1, 1, 'juliet@capulet.example', 1, 0, 1700000000000000, 1700000300000000, 1700000200000000, 2, 1);

INSERT INTO archives (id, account, jid) VALUES (1, 1, 'romeo@montague.example');

INSERT INTO messages (id, conversation, ts, direction, type, sender, origin_id, xml_id, sent_ts, server_ts, received_ts, body, lang, state)
VALUES
    (1, 1, 1700000100000000, 2, 2, 'romeo@montague.example', 'o-1', NULL, 1700000100000000, 1700000100000000, NULL,
     'But soft, what light through yonder window breaks?', 'en', 4),
    (2, 1, 1700000200000000, 1, 2, 'juliet@capulet.example', 'o-2', 'x-2', 1700000199000000, 1700000200000000, 1700000201000000,
     'Wherefore art thou Romeo?', 'en', 0),
    (3, 1, 1700000300000000, 1, 2, 'juliet@capulet.example', 'o-3', NULL, NULL, 1700000300000000, 1700000301000000,
     'Parting is such sweet sorrow', 'en', 0);
INSERT INTO messages (id, conversation, ts, direction, type, sender, origin_id, body, replaces)
VALUES (4, 1, 1700000310000000, 1, 2, 'juliet@capulet.example', 'o-4', 'Parting is such sweet sorrow!', 3);

INSERT INTO message_stanza_ids (archive, stanza_id, message) VALUES
    (1, 'stanza-1', 1), (1, 'stanza-2', 2), (1, 'stanza-3', 3), (1, 'stanza-4', 4);
INSERT INTO message_bodies (message, lang, body) VALUES (2, 'it', 'Perché sei tu Romeo?');
