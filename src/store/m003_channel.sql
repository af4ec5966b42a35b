-- Version 3 (issue 15, every channel of the regulation).

-- The channel an appeal came through: a letter ('email'), the site's form
-- ('web'), a call registered by an engineer ('phone'); tickets from before
-- are letters.
ALTER TABLE tickets ADD COLUMN channel TEXT NOT NULL DEFAULT 'email';
-- The engineer who registered a phone appeal (NULL otherwise).
ALTER TABLE tickets ADD COLUMN registered_by TEXT;
