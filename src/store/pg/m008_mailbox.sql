-- Version 8 (issue 17, several mailboxes in one daemon): the PostgreSQL
-- twin of src/store/m008_mailbox.sql.

-- The mailbox (its config name) a letter-borne ticket came through; NULL
-- for the web form, a phone call, `ticketd ingest`, and tickets from
-- before this version.
ALTER TABLE tickets ADD COLUMN mailbox TEXT;
CREATE INDEX IF NOT EXISTS tickets_mailbox ON tickets(mailbox, created_at);
