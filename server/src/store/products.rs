//! The products' tables (migrations 0004, 0007 and 0009): drafts per owner, the metadata the
//! marketplace shows beyond the chain, and the uploaded covers.

use std::collections::HashMap;

use alloy::primitives::{Address, B256};
use app::products::{Category, Draft, Licence, ProductMetadata};
use sqlx::Row;

use super::{Store, StoreError, hex};

fn draft(row: &sqlx::any::AnyRow) -> Result<Draft, StoreError> {
    let body: String = row.try_get("body")?;
    let mut draft: Draft =
        serde_json::from_str(&body).map_err(|_| StoreError::Corrupt { column: "product_drafts.body", value: body })?;
    draft.id = row.try_get("id")?;
    draft.updated_at = row.try_get("updated_at")?;
    Ok(draft)
}

fn metadata(row: &sqlx::any::AnyRow) -> Result<ProductMetadata, StoreError> {
    let category: String = row.try_get("category")?;
    let category = match category.as_str() {
        "" => None,
        name => Some(
            name.parse()
                .map_err(|_| StoreError::Corrupt { column: "product_metadata.category", value: category.clone() })?,
        ),
    };
    let licence: String = row.try_get("licence")?;
    let licence = match licence.as_str() {
        "" => None,
        name => Some(
            name.parse()
                .map_err(|_| StoreError::Corrupt { column: "product_metadata.licence", value: licence.clone() })?,
        ),
    };
    Ok(ProductMetadata {
        description: row.try_get("description")?,
        category,
        cover: row.try_get("cover")?,
        licence,
        terms: row.try_get("terms")?,
        contact: row.try_get("contact")?,
    })
}

fn parse_hash(text: String) -> Result<B256, StoreError> {
    text.parse().map_err(|_| StoreError::Corrupt { column: "product_metadata.product_id", value: text })
}

fn parse_address(text: String) -> Result<Address, StoreError> {
    text.parse().map_err(|_| StoreError::Corrupt { column: "product_metadata.owner", value: text })
}

fn body(draft: &Draft) -> String {
    serde_json::to_string(draft).expect("a draft is plain strings")
}

impl Store {
    /// An owner's drafts, last saved first.
    pub async fn drafts(&self, owner: Address) -> Result<Vec<Draft>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, body, updated_at FROM product_drafts WHERE owner = $1 ORDER BY updated_at DESC, id",
        )
        .bind(hex(&owner))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(draft).collect()
    }

    /// One of `owner`'s drafts; `None` when it is not there or is someone else's.
    pub async fn find_draft(&self, owner: Address, id: &str) -> Result<Option<Draft>, StoreError> {
        let row = sqlx::query("SELECT id, body, updated_at FROM product_drafts WHERE id = $1 AND owner = $2")
            .bind(id)
            .bind(hex(&owner))
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(draft).transpose()
    }

    pub async fn insert_draft(&self, owner: Address, draft: &Draft, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO product_drafts (id, owner, body, product_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&draft.id)
        .bind(hex(&owner))
        .bind(body(draft))
        .bind(&draft.product_id)
        .bind(now)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Replaces one of `owner`'s drafts; `false` when there is no such draft of theirs.
    pub async fn update_draft(&self, owner: Address, draft: &Draft, now: i64) -> Result<bool, StoreError> {
        let updated = sqlx::query(
            "UPDATE product_drafts SET body = $1, product_id = $2, updated_at = $3 WHERE id = $4 AND owner = $5",
        )
        .bind(body(draft))
        .bind(&draft.product_id)
        .bind(now)
        .bind(&draft.id)
        .bind(hex(&owner))
        .execute(&self.pool)
        .await?;
        Ok(updated.rows_affected() == 1)
    }

    pub async fn delete_draft(&self, owner: Address, id: &str) -> Result<bool, StoreError> {
        let deleted = sqlx::query("DELETE FROM product_drafts WHERE id = $1 AND owner = $2")
            .bind(id)
            .bind(hex(&owner))
            .execute(&self.pool)
            .await?;
        Ok(deleted.rows_affected() == 1)
    }

    /// Sets what the marketplace shows of `product` while `owner` owns it.
    pub async fn save_metadata(
        &self,
        product: B256,
        owner: Address,
        metadata: &ProductMetadata,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO product_metadata \
             (product_id, owner, description, category, cover, licence, terms, contact, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (product_id, owner) DO UPDATE SET \
             description = excluded.description, category = excluded.category, cover = excluded.cover, \
             licence = excluded.licence, terms = excluded.terms, contact = excluded.contact, \
             updated_at = excluded.updated_at",
        )
        .bind(format!("{product:#x}"))
        .bind(hex(&owner))
        .bind(&metadata.description)
        .bind(metadata.category.map(Category::as_str).unwrap_or_default())
        .bind(&metadata.cover)
        .bind(metadata.licence.map(Licence::as_str).unwrap_or_default())
        .bind(&metadata.terms)
        .bind(&metadata.contact)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// What `owner` said of `product`, if anything.
    pub async fn product_metadata(&self, product: B256, owner: Address) -> Result<Option<ProductMetadata>, StoreError> {
        let row = sqlx::query(
            "SELECT description, category, cover, licence, terms, contact FROM product_metadata \
             WHERE product_id = $1 AND owner = $2",
        )
        .bind(format!("{product:#x}"))
        .bind(hex(&owner))
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(metadata).transpose()
    }

    /// What the owners said of each of `products` (a page of the marketplace), in one question to the
    /// database rather than one per product; a product whose owner said nothing is not in the answer.
    pub async fn products_metadata(
        &self,
        products: &[(B256, Address)],
    ) -> Result<HashMap<(B256, Address), ProductMetadata>, StoreError> {
        if products.is_empty() {
            return Ok(HashMap::new());
        }
        let placeholders: Vec<String> = (1..=products.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT product_id, owner, description, category, cover, licence, terms, contact FROM product_metadata \
             WHERE product_id IN ({})",
            placeholders.join(", ")
        );
        // Only numbered placeholders are put into the text; the ids are bound.
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (product, _) in products {
            query = query.bind(format!("{product:#x}"));
        }
        let rows = query.fetch_all(&self.pool).await?;
        let mut found = HashMap::with_capacity(rows.len());
        for row in &rows {
            let product: String = row.try_get("product_id")?;
            let owner: String = row.try_get("owner")?;
            let key = (parse_hash(product)?, parse_address(owner)?);
            // A product's earlier owner may have described it too; only the asked-for owner counts.
            if products.contains(&key) {
                found.insert(key, metadata(row)?);
            }
        }
        Ok(found)
    }

    /// Every `(product, owner)` filed under `category`; the caller keeps the ones whose owner still owns
    /// the product.
    pub async fn products_in_category(&self, category: Category) -> Result<Vec<(B256, Address)>, StoreError> {
        let rows = sqlx::query("SELECT product_id, owner FROM product_metadata WHERE category = $1")
            .bind(category.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| Ok((parse_hash(row.try_get("product_id")?)?, parse_address(row.try_get("owner")?)?)))
            .collect()
    }

    /// Every `(product, owner)` whose description contains `text` (lower case; the description is
    /// compared lowered by the database, which SQLite does for ASCII letters only). `%`, `_` and a backslash
    /// in `text` are matched as themselves.
    pub async fn products_describing(&self, text: &str) -> Result<Vec<(B256, Address)>, StoreError> {
        let escaped = text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        let rows =
            sqlx::query("SELECT product_id, owner FROM product_metadata WHERE LOWER(description) LIKE $1 ESCAPE '\\'")
                .bind(format!("%{escaped}%"))
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|row| Ok((parse_hash(row.try_get("product_id")?)?, parse_address(row.try_get("owner")?)?)))
            .collect()
    }

    /// Stores a cover under `name`, uploaded by `seller`, unless it is there already (a name is its
    /// content's hash).
    pub async fn insert_cover(&self, name: &str, image: &[u8], seller: Address, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO product_covers (name, image, created_at, uploaded_by) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(image.to_vec())
        .bind(now)
        .bind(hex(&seller))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// How many covers `seller` uploaded since `since` (Unix seconds).
    pub async fn covers_uploaded_since(&self, seller: Address, since: i64) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM product_covers WHERE uploaded_by = $1 AND created_at >= $2")
            .bind(hex(&seller))
            .bind(since)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("n")?)
    }

    /// Deletes the covers uploaded before `before` that no draft and no product's metadata names: an
    /// upload nobody used stays for a while (its seller may still be writing the draft), not for good.
    pub async fn delete_unused_covers(&self, before: i64) -> Result<u64, StoreError> {
        let deleted = sqlx::query(
            "DELETE FROM product_covers WHERE created_at < $1 \
             AND NOT EXISTS (SELECT 1 FROM product_metadata WHERE product_metadata.cover = product_covers.name) \
             AND NOT EXISTS (SELECT 1 FROM product_drafts WHERE product_drafts.body LIKE '%' || product_covers.name || '%')",
        )
        .bind(before)
        .execute(&self.pool)
        .await?;
        Ok(deleted.rows_affected())
    }

    /// How many drafts `owner` keeps.
    pub async fn draft_count(&self, owner: Address) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM product_drafts WHERE owner = $1")
            .bind(hex(&owner))
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("n")?)
    }

    /// How many products `owner` has described, and whether `product` is one of them.
    pub async fn metadata_count(&self, owner: Address, product: B256) -> Result<(i64, bool), StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n, COUNT(CASE WHEN product_id = $2 THEN 1 END) AS this FROM product_metadata WHERE owner = $1",
        )
        .bind(hex(&owner))
        .bind(format!("{product:#x}"))
        .fetch_one(&self.pool)
        .await?;
        Ok((row.try_get("n")?, row.try_get::<i64, _>("this")? > 0))
    }

    /// The image stored under `name`, if any.
    pub async fn cover(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let row = sqlx::query("SELECT image FROM product_covers WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|row| row.try_get("image")).transpose()?)
    }
}
