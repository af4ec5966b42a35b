-- Version 8 (issue 17, several mailboxes in one daemon).

-- The mailbox (its config name, `[mailbox]`/`[[mailboxes]] name`) a
-- letter-borne ticket came through; NULL for the web form, a phone call,
-- `ticketd ingest` (the MTA's pipe is no mailbox), and tickets from before
-- this version: which mailbox they came through was never recorded, and a
-- guess (today's one mailbox) would be wrong for a desk that changed its
-- config since. Their letters leave from `[desk] support_address`, as before.
ALTER TABLE tickets ADD COLUMN mailbox TEXT;
CREATE INDEX IF NOT EXISTS tickets_mailbox ON tickets(mailbox, created_at);
