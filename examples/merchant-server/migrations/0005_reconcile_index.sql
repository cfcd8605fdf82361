-- Reconciliation pages the day's successful refunds by (updated_at, out_refund_no).
-- (Its own migration: a migration once applied is never edited.)
CREATE INDEX refunds_by_success ON refunds (state, updated_at, out_refund_no);
