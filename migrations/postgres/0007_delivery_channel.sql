-- Where a platform delivers to an account (a Discord DM channel id), kept so it is not asked
-- for again on every start (the mass-DM pattern Discord warns may get a bot limited). Part of
-- the identity row, so unlinking or erasing the person removes it too. Keep in step with the
-- other backend's 0007_delivery_channel.sql.
ALTER TABLE identities ADD COLUMN delivery_channel TEXT;

-- The platform's id of the last direct message handled from the account (Discord message ids
-- grow with time): after a new gateway session, what came after it is fetched and handled, so
-- nothing said while the bot was disconnected is lost.
ALTER TABLE identities ADD COLUMN delivery_cursor BIGINT;
