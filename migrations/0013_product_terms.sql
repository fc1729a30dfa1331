-- What a buyer accepts and how it reaches the seller: a licence's name (or 'own', or empty for none
-- stated), the seller's own terms with 'own', and an e-mail or https:// contact, or empty.
ALTER TABLE product_metadata ADD COLUMN licence TEXT NOT NULL DEFAULT '';
ALTER TABLE product_metadata ADD COLUMN terms TEXT NOT NULL DEFAULT '';
ALTER TABLE product_metadata ADD COLUMN contact TEXT NOT NULL DEFAULT '';
