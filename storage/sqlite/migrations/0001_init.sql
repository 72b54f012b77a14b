-- 0001: accounts, roster, conversations, messages with their XEP-0359 ids,
-- and the full-text index over message bodies.
--
-- Conventions: times are INTEGER microseconds since 1970-01-01 UTC (NULL:
-- unknown); JIDs are TEXT in canonical form; enumerations are small
-- INTEGERs whose values are the Go constants of protocol/client.

CREATE TABLE accounts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    jid          TEXT    NOT NULL UNIQUE,
    resource     TEXT    NOT NULL DEFAULT '',
    server       TEXT    NOT NULL DEFAULT '',
    display_name TEXT    NOT NULL DEFAULT '',
    enabled      INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    created      INTEGER NOT NULL,
    roster_ver   TEXT    NOT NULL DEFAULT ''   -- RFC 6121 §2.6 roster version
) STRICT;

CREATE TABLE roster_items (
    account      INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    jid          TEXT    NOT NULL,
    name         TEXT    NOT NULL DEFAULT '',
    subscription INTEGER NOT NULL DEFAULT 0 CHECK (subscription BETWEEN 0 AND 3),
    ask          INTEGER NOT NULL DEFAULT 0 CHECK (ask IN (0, 1)),
    approved     INTEGER NOT NULL DEFAULT 0 CHECK (approved IN (0, 1)),
    PRIMARY KEY (account, jid)
) STRICT, WITHOUT ROWID;

CREATE TABLE roster_groups (
    account INTEGER NOT NULL,
    jid     TEXT    NOT NULL,
    name    TEXT    NOT NULL,
    PRIMARY KEY (account, jid, name),
    FOREIGN KEY (account, jid) REFERENCES roster_items(account, jid) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

-- Inbound subscription requests the user has not answered (RFC 6121 §3.1.3).
CREATE TABLE subscription_requests (
    account  INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    jid      TEXT    NOT NULL,
    nick     TEXT    NOT NULL DEFAULT '',
    status   TEXT    NOT NULL DEFAULT '',
    received INTEGER NOT NULL,
    PRIMARY KEY (account, jid)
) STRICT, WITHOUT ROWID;

CREATE TABLE conversations (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    account      INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    peer         TEXT    NOT NULL,
    kind         INTEGER NOT NULL CHECK (kind IN (1, 2)),
    encryption   INTEGER NOT NULL DEFAULT 0 CHECK (encryption BETWEEN 0 AND 2),
    created      INTEGER NOT NULL,
    last_ts      INTEGER,            -- ts of the newest timeline message
    last_read_ts INTEGER,            -- read position (ts, id); no foreign key:
    last_read_id INTEGER,            -- a deleted message keeps its position
    unread       INTEGER NOT NULL DEFAULT 0,  -- inbound timeline messages after the read position
    UNIQUE (account, peer)
) STRICT;

-- Archives that assign XEP-0359 stanza-ids: our own account (one-to-one
-- messages) and rooms. Interned so that each stanza-id row carries a small
-- integer instead of a JID.
CREATE TABLE archives (
    id      INTEGER PRIMARY KEY,
    account INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    jid     TEXT    NOT NULL,
    UNIQUE (account, jid)
) STRICT;

CREATE TABLE messages (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused
    conversation  INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    ts            INTEGER NOT NULL,   -- timeline position: server, else sent, else received time
    direction     INTEGER NOT NULL CHECK (direction IN (1, 2)),
    type          INTEGER NOT NULL CHECK (type BETWEEN 1 AND 4),
    -- Dedupe identity of the author: bare JID in one-to-one conversations
    -- (resources change), occupant nick in rooms.
    sender        TEXT    NOT NULL,
    origin_id     TEXT,               -- XEP-0359 origin-id
    xml_id        TEXT,               -- the stanza's id attribute, only when it differs from origin_id
    sent_ts       INTEGER,
    server_ts     INTEGER,
    received_ts   INTEGER,
    body          TEXT    NOT NULL DEFAULT '',
    lang          TEXT    NOT NULL DEFAULT '',
    thread        TEXT    NOT NULL DEFAULT '',
    reply_to      TEXT    NOT NULL DEFAULT '',   -- XEP-0461
    reply_id      TEXT    NOT NULL DEFAULT '',
    state         INTEGER NOT NULL DEFAULT 0 CHECK (state BETWEEN 0 AND 5),
    failure       TEXT    NOT NULL DEFAULT '',
    replaces      INTEGER REFERENCES messages(id) ON DELETE CASCADE,  -- XEP-0308: the corrected message
    retracted_ts  INTEGER,                                            -- XEP-0424
    encryption    INTEGER NOT NULL DEFAULT 0 CHECK (encryption IN (0, 1)),
    sender_device INTEGER,
    trust         INTEGER NOT NULL DEFAULT 0 CHECK (trust BETWEEN 0 AND 3)
) STRICT;

-- Timeline pages: keyset pagination on (ts, id) within a conversation.
-- Corrections are not timeline entries.
CREATE INDEX messages_timeline ON messages (conversation, ts) WHERE replaces IS NULL;
-- One message per (conversation, sender, origin-id); the conversation
-- determines the account. Also serves the conversation foreign key.
CREATE UNIQUE INDEX messages_origin ON messages (conversation, sender, origin_id);
CREATE INDEX messages_xml_id ON messages (conversation, sender, xml_id) WHERE xml_id IS NOT NULL;
CREATE INDEX messages_corrections ON messages (replaces, ts) WHERE replaces IS NOT NULL;

-- XEP-0359 stanza-ids: one message per (archive, stanza-id); the archive
-- determines the account. (No foreign key to archives: rows go with their
-- message, and an archive only goes with its account and all its
-- messages; the check would cost a lookup per row of every archive page.)
CREATE TABLE message_stanza_ids (
    archive   INTEGER NOT NULL,
    stanza_id TEXT    NOT NULL,
    message   INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    PRIMARY KEY (archive, stanza_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX message_stanza_ids_message ON message_stanza_ids (message);

-- Bodies in other languages than the chosen one (RFC 6120 xml:lang).
CREATE TABLE message_bodies (
    message INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    lang    TEXT    NOT NULL,
    body    TEXT    NOT NULL,
    PRIMARY KEY (message, lang)
) STRICT, WITHOUT ROWID;

-- Full-text index over bodies, without a second copy of the text
-- (external content), kept in sync by the triggers below.
CREATE VIRTUAL TABLE messages_fts USING fts5 (
    body,
    content = 'messages',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);

-- FTS5 writes its pending terms to disk at every statement of a
-- transaction, so per-row indexing of a batch costs a segment per
-- statement. A batch insert (InsertMessages) therefore holds a row here
-- while it inserts, which turns the insert trigger off, and indexes the
-- batch with one statement before removing the row, all inside one
-- savepoint: outside a batch the table is always empty.
CREATE TABLE fts_deferred (
    id INTEGER PRIMARY KEY CHECK (id = 1)
) STRICT;

-- Every row is indexed, empty bodies included: FTS5's integrity check
-- expects one index entry per content row.
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
WHEN NOT EXISTS (SELECT 1 FROM fts_deferred) BEGIN
    INSERT INTO messages_fts (rowid, body) VALUES (new.id, new.body);
END;

CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
END;

CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages WHEN old.body IS NOT new.body BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
    INSERT INTO messages_fts (rowid, body) VALUES (new.id, new.body);
END;
