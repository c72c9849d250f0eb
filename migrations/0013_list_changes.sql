-- PostgreSQL counts changes to a user's listed rows per database connection, so that no two
-- transactions wait for one count (`store::change_count`): a user's count is
-- `users.lists_version` plus their rows here, which are folded into it once their connection
-- has ended. SQLite counts in `users.lists_version` alone and leaves this table empty.
-- No foreign key: deleting a user counts the deletion of their rows here, after the user.
CREATE TABLE list_changes (
    user_id TEXT NOT NULL,
    backend INTEGER NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (user_id, backend)
);
