-- Daily reconciliation against WeChat Pay's bill: one report per bill date (the latest run).
CREATE TABLE reconciliations (
    bill_date  TEXT PRIMARY KEY,
    created_at BIGINT NOT NULL,
    report     TEXT NOT NULL
);
