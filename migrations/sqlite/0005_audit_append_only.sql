-- The audit log is append-only, and the database itself says so: changing or deleting a row
-- is refused, whoever asks. (Someone with full access to the file can still drop these
-- triggers; that is what the hash chain and `carebot audit-verify` are for.)
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
