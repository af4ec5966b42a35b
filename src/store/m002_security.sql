-- Version 2 (issue 12, the reply channel's security).

-- Engineers' commands already applied, by replay key (engineer, ticket,
-- command text): the same command again within [commands] replay_window
-- is a duplicate.
CREATE TABLE IF NOT EXISTS command_replays (
    key       TEXT PRIMARY KEY,
    ticket_id TEXT NOT NULL,
    at        TEXT NOT NULL
);

-- Automatic letters to one address over all tickets ([loops]
-- max_auto_per_address_per_day) count the last day's outbox rows.
CREATE INDEX IF NOT EXISTS outbox_created ON outbox(created_at);

-- New tickets per Reply-To in the last hour ([loops]
-- max_new_tickets_per_sender_per_hour); per sender uses tickets_requester.
CREATE INDEX IF NOT EXISTS tickets_reply_to ON tickets(reply_to);
