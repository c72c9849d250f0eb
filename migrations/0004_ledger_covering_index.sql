-- The balance is a sum over the user's entries: with the amount in the index, that sum reads
-- only the index (measured by `./dev bench`, "GET /api/me, 2,000 ledger entries").
CREATE INDEX credit_ledger_user_amount ON credit_ledger(user_id, amount);
DROP INDEX credit_ledger_user;
