-- Who uploaded each cover, for the per-seller quota; covers from before this are nobody's.
ALTER TABLE product_covers ADD COLUMN uploaded_by TEXT;
CREATE INDEX product_covers_by_uploader ON product_covers (uploaded_by, created_at);
