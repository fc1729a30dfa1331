//! The store conformance suite: every case runs on SQLite and on PostgreSQL.
//!
//! PostgreSQL cases need `COOP_TEST_POSTGRES_URL`; each case gets a database of its own and drops it
//! afterwards (see `support/postgres.rs`).

#[path = "support/postgres.rs"]
mod test_database;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use alloy::primitives::{Address, B256, U256, address, b256};
use app::products::{Category, Draft, Licence, ProductMetadata};
use coop::engine::AdminFee;
use coop_server::chain_event::{ChainEvent, ProductFields, UnionCreated};
use coop_server::store::CHECK_TIMEOUT;
use coop_server::store::{
    Checkpoint, Contribution, Filed, IndexedRange, JoinState, NonceUse, Store, StoreError, StoredBook, StoredEvent,
};
use serde_json::json;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tower_sessions::SessionStore;
use tower_sessions::cookie::time::{Duration, OffsetDateTime};
use tower_sessions::session::{Id, Record};

/// A database for one case, removed at the end.
struct Db {
    url: String,
    store: Store,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres(test_database::TestDatabase),
}

impl Db {
    async fn sqlite() -> Db {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("nested/coop.db").display());
        let store = Store::open(&url).await.expect("open sqlite");
        Db { url, store, cleanup: Cleanup::Sqlite(dir) }
    }

    async fn postgres() -> Option<Db> {
        let database = test_database::TestDatabase::create("coop_store").await?;
        let store = Store::open(&database.url).await.expect("open postgres");
        Some(Db { url: database.url.clone(), store, cleanup: Cleanup::Postgres(database) })
    }

    async fn finish(self) {
        self.store.close().await;
        if let Cleanup::Postgres(database) = self.cleanup {
            database.drop().await;
        }
    }
}

macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $case() {
                let db = super::Db::sqlite().await;
                super::cases::$case(&db).await;
                db.finish().await;
            })*
        }
        mod postgres {
            $(#[tokio::test]
            async fn $case() {
                let Some(db) = super::Db::postgres().await else { return };
                super::cases::$case(&db).await;
                db.finish().await;
            })*
        }
    };
}

conformance!(
    a_new_store_has_no_checkpoint,
    an_appended_range_reads_back_in_chain_order_with_exact_amounts,
    a_range_holding_an_already_stored_event_is_refused_and_changes_nothing,
    events_of_every_shape_read_back_as_stored_and_creations_name_the_unions,
    a_rollback_forgets_everything_above_its_block_and_moves_the_checkpoint,
    a_deposed_leaders_late_write_cannot_overwrite_a_rollback,
    block_hashes_are_kept_for_the_window_and_pruned_below_it,
    a_reopened_store_has_everything_it_had,
    a_sign_in_nonce_is_good_for_one_use_before_it_expires,
    a_session_is_saved_loaded_and_deleted_and_an_expired_one_is_not_loaded,
    join_requests_are_paged_oldest_first_and_waiting_ones_counted,
    drafts_are_their_owners_alone_and_counted,
    product_metadata_is_kept_per_product_and_owner_and_found_by_category,
    products_are_found_by_words_in_their_description_without_case,
    only_old_covers_that_no_draft_and_no_product_names_are_deleted,
    a_committed_book_is_kept_per_union_and_block_and_a_resent_one_replaces_it,
    one_lease_at_a_time_holds_the_chain_role_and_dropping_it_frees_the_role,
    a_join_request_moves_only_along_its_transitions_and_a_sent_one_can_go_back,
    a_secret_is_found_by_its_hash_in_its_own_union_only_and_revoked_by_id,
    a_removal_waits_once_per_member_until_the_agent_forgets_it,
    stream_definitions_are_per_product_and_a_saved_one_replaces_the_last,
    an_app_key_stands_until_revoked_and_a_new_grant_restores_it,
    contributions_add_up_per_union_day_and_publisher,
);

const STREAM: &str = "chain";
const DU: Address = address!("00000000000000000000000000000000000000d0");

fn hash(n: u8) -> B256 {
    B256::repeat_byte(n)
}

fn checkpoint(block: u64) -> Checkpoint {
    Checkpoint { block, hash: hash(block as u8) }
}

fn event(block: u64, tx_index: u64, log_index: u64, amount: U256) -> StoredEvent {
    StoredEvent {
        block,
        tx_index,
        log_index,
        block_hash: hash(block as u8),
        time: 1_000 + 12 * block,
        contract: DU,
        event: ChainEvent::Revenue { amount, from: Address::ZERO },
    }
}

/// A range from the checkpoint at `after` (none if `None`) to `to`.
fn range(after: Option<u64>, events: Vec<StoredEvent>, to: u64) -> IndexedRange {
    IndexedRange {
        after: after.map(|block| Checkpoint { block, hash: hash(block as u8) }),
        block_hashes: (to.saturating_sub(2)..=to).map(|block| (block, hash(block as u8))).collect(),
        events,
        checkpoint: Some(Checkpoint { block: to, hash: hash(to as u8) }),
    }
}

mod cases {
    pub use super::more_cases::*;
    use super::*;

    pub async fn a_new_store_has_no_checkpoint(db: &Db) {
        assert_eq!(db.store.checkpoint(STREAM).await.unwrap(), None);
        assert!(db.store.events(0, u64::MAX).await.unwrap().is_empty());
        db.store.ping().await.unwrap();
    }

    pub async fn an_appended_range_reads_back_in_chain_order_with_exact_amounts(db: &Db) {
        let events = vec![event(5, 1, 3, U256::MAX), event(3, 0, 0, U256::from(7)), event(5, 0, 1, U256::ZERO)];
        db.store.append_range(STREAM, &range(None, events, 6)).await.unwrap();

        let stored = db.store.events(0, 10).await.unwrap();
        let keys: Vec<_> = stored.iter().map(|e| (e.block, e.tx_index, e.log_index)).collect();
        assert_eq!(keys, vec![(3, 0, 0), (5, 0, 1), (5, 1, 3)]);
        assert_eq!(stored[2].event, ChainEvent::Revenue { amount: U256::MAX, from: Address::ZERO });
        assert_eq!(stored[2].contract, DU);
        assert_eq!(stored[2].block_hash, hash(5));
        assert_eq!(db.store.events(4, 5).await.unwrap().len(), 2);
        assert_eq!(db.store.checkpoint(STREAM).await.unwrap(), Some(Checkpoint { block: 6, hash: hash(6) }));
    }

    pub async fn events_of_every_shape_read_back_as_stored_and_creations_name_the_unions(db: &Db) {
        let (a, id) = (Address::repeat_byte(1), B256::repeat_byte(2));
        let fields = ProductFields {
            id,
            owner: a,
            name: "Weather ☂ \"quoted\"".into(),
            beneficiary: DU,
            price_per_second: U256::MAX,
            minimum_subscription_seconds: U256::from(60),
        };
        let kinds = [
            ChainEvent::Created(UnionCreated {
                owner: a,
                admin_fee: AdminFee::ALL,
                freeze_period: U256::MAX,
                operator: a,
            }),
            ChainEvent::Committed { book_block: 3, root: id, book_hash: hash(9), timestamp: u64::MAX },
            ChainEvent::Withdrawn { member: a, recipient: DU, amount: U256::MAX },
            ChainEvent::Unreadable { reason: "DataUnion: buffer overrun".into() },
            ChainEvent::ProductCreated(fields),
            ChainEvent::Purchased { product: id, subscriber: a, payer: DU, add_seconds: U256::ONE, price: U256::MAX },
        ];
        let events: Vec<StoredEvent> = kinds
            .into_iter()
            .enumerate()
            .map(|(n, kind)| StoredEvent { event: kind, ..event(2, 0, n as u64, U256::ZERO) })
            .collect();
        db.store.append_range(STREAM, &range(None, events.clone(), 2)).await.unwrap();

        assert_eq!(db.store.events(0, 10).await.unwrap(), events);
        assert_eq!(db.store.union_addresses().await.unwrap(), [DU].into());
    }

    pub async fn a_range_holding_an_already_stored_event_is_refused_and_changes_nothing(db: &Db) {
        db.store.append_range(STREAM, &range(None, vec![event(3, 0, 0, U256::from(1))], 3)).await.unwrap();

        let again = range(Some(3), vec![event(4, 0, 0, U256::from(2)), event(3, 0, 0, U256::from(1))], 4);
        let error = db.store.append_range(STREAM, &again).await.unwrap_err();

        assert!(matches!(error, StoreError::DuplicateEvent { block: 3, log_index: 0 }), "{error}");
        assert_eq!(db.store.events(0, 10).await.unwrap().len(), 1, "the new event was not kept either");
        assert_eq!(db.store.checkpoint(STREAM).await.unwrap().unwrap().block, 3);
        assert_eq!(db.store.block_hash(STREAM, 4).await.unwrap(), None);
    }

    pub async fn a_rollback_forgets_everything_above_its_block_and_moves_the_checkpoint(db: &Db) {
        let events = (1..=6).map(|block| event(block, 0, 0, U256::from(block))).collect();
        db.store.append_range(STREAM, &range(None, events, 6)).await.unwrap();

        let removed = db.store.roll_back_to(STREAM, checkpoint(6), checkpoint(4)).await.unwrap();

        assert_eq!(removed, 2);
        let blocks: Vec<_> = db.store.events(0, 10).await.unwrap().iter().map(|e| e.block).collect();
        assert_eq!(blocks, vec![1, 2, 3, 4]);
        assert_eq!(db.store.checkpoint(STREAM).await.unwrap(), Some(Checkpoint { block: 4, hash: hash(4) }));
        assert_eq!(db.store.block_hash(STREAM, 5).await.unwrap(), None);
        assert_eq!(db.store.block_hash(STREAM, 4).await.unwrap(), Some(hash(4)));
        // The log continues from the rollback point with the new chain's events.
        db.store.append_range(STREAM, &range(Some(4), vec![event(5, 0, 0, U256::from(50))], 5)).await.unwrap();
        assert_eq!(
            db.store.events(5, 5).await.unwrap()[0].event,
            ChainEvent::Revenue { amount: U256::from(50), from: Address::ZERO }
        );
    }

    pub async fn a_deposed_leaders_late_write_cannot_overwrite_a_rollback(db: &Db) {
        let events = (1..=6).map(|block| event(block, 0, 0, U256::from(block))).collect();
        db.store.append_range(STREAM, &range(None, events, 6)).await.unwrap();
        // The old leader read blocks 7..=8 after the checkpoint at 6; meanwhile the new leader saw a
        // reorg and rolled back to 4.
        let late = range(Some(6), vec![event(7, 0, 0, U256::from(7)), event(8, 0, 0, U256::from(8))], 8);
        db.store.roll_back_to(STREAM, checkpoint(6), checkpoint(4)).await.unwrap();

        let error = db.store.append_range(STREAM, &late).await.unwrap_err();

        assert!(matches!(error, StoreError::Fenced { expected: Some(6) }), "{error}");
        assert_eq!(db.store.checkpoint(STREAM).await.unwrap(), Some(checkpoint(4)));
        assert_eq!(db.store.events(0, 10).await.unwrap().len(), 4, "nothing of the late range was kept");
        // Nor can a second, stale rollback or a second first range.
        let stale = db.store.roll_back_to(STREAM, checkpoint(6), checkpoint(2)).await.unwrap_err();
        assert!(matches!(stale, StoreError::Fenced { .. }), "{stale}");
        let first = db.store.append_range(STREAM, &range(None, vec![], 9)).await.unwrap_err();
        assert!(matches!(first, StoreError::Fenced { expected: None }), "{first}");
        assert_eq!(db.store.checkpoint(STREAM).await.unwrap(), Some(checkpoint(4)));
    }

    pub async fn block_hashes_are_kept_for_the_window_and_pruned_below_it(db: &Db) {
        db.store.append_range(STREAM, &range(None, vec![], 10)).await.unwrap();
        let replaced = b256!("00000000000000000000000000000000000000000000000000000000000000aa");
        let update = IndexedRange { block_hashes: vec![(10, replaced)], ..Default::default() };
        db.store.append_range(STREAM, &update).await.unwrap();

        db.store.prune_block_hashes(STREAM, 8).await.unwrap();

        assert_eq!(db.store.block_hash(STREAM, 8).await.unwrap(), None);
        assert_eq!(db.store.block_hash(STREAM, 9).await.unwrap(), Some(hash(9)));
        assert_eq!(db.store.block_hash(STREAM, 10).await.unwrap(), Some(replaced));
        assert_eq!(db.store.checkpoint(STREAM).await.unwrap().unwrap().block, 10, "no checkpoint in the update");
    }

    pub async fn a_reopened_store_has_everything_it_had(db: &Db) {
        db.store.append_range(STREAM, &range(None, vec![event(2, 0, 0, U256::from(9))], 2)).await.unwrap();

        let reopened = Store::open(&db.url).await.unwrap();

        assert_eq!(reopened.events(0, 10).await.unwrap(), db.store.events(0, 10).await.unwrap());
        assert_eq!(reopened.checkpoint(STREAM).await.unwrap(), Some(Checkpoint { block: 2, hash: hash(2) }));
        reopened.close().await;
    }

    pub async fn join_requests_are_paged_oldest_first_and_waiting_ones_counted(db: &Db) {
        let other_union = Address::repeat_byte(0xd1);
        let members: Vec<Address> = (1..=3).map(Address::repeat_byte).collect();
        for (at, member) in members.iter().enumerate() {
            let filed =
                db.store.file_join_request(DU, *member, JoinState::Pending, 10, "0x00", None, false, 100 + at as i64);
            assert!(matches!(filed.await.unwrap(), Filed::Stored(_)));
        }
        let filed =
            db.store.file_join_request(other_union, members[0], JoinState::Approved, 10, "0x00", None, false, 200);
        assert!(matches!(filed.await.unwrap(), Filed::Stored(_)));

        let (page, total) = db.store.join_requests_page(DU, None, 1, 1).await.unwrap();
        assert_eq!((page.iter().map(|r| r.member).collect::<Vec<_>>(), total), (vec![members[1]], 3));
        let (page, total) = db.store.join_requests_page(DU, Some(JoinState::Approved), 0, 50).await.unwrap();
        assert_eq!((page.len(), total), (0, 0));
        let (page, total) = db.store.join_requests_page(DU, Some(JoinState::Pending), u64::MAX, 50).await.unwrap();
        assert_eq!((page.len(), total), (0, 3), "past the end is an empty page");
        // Three wait in the union; of the first member, one (the other union's is approved).
        assert_eq!(db.store.waiting_join_requests(DU, members[0]).await.unwrap(), (3, 1));
        assert_eq!(db.store.waiting_join_requests(other_union, Address::repeat_byte(9)).await.unwrap(), (0, 0));
    }

    pub async fn drafts_are_their_owners_alone_and_counted(db: &Db) {
        let (owner, other) = (Address::repeat_byte(1), Address::repeat_byte(2));
        let first = Draft { id: "d1".into(), name: "Weather".into(), ..Draft::default() };
        let second = Draft { id: "d2".into(), name: "Trams".into(), ..Draft::default() };
        db.store.insert_draft(owner, &first, 10).await.unwrap();
        db.store.insert_draft(owner, &second, 20).await.unwrap();

        let names = |drafts: Vec<Draft>| drafts.into_iter().map(|d| d.name).collect::<Vec<_>>();
        assert_eq!(names(db.store.drafts(owner).await.unwrap()), ["Trams", "Weather"], "last saved first");
        assert_eq!(db.store.draft_count(owner).await.unwrap(), 2);
        assert!(db.store.drafts(other).await.unwrap().is_empty());
        assert_eq!(db.store.find_draft(other, "d1").await.unwrap(), None);
        let renamed = Draft { name: "Weather stations".into(), ..first.clone() };
        assert!(!db.store.update_draft(other, &renamed, 30).await.unwrap(), "not theirs to change");
        assert!(db.store.update_draft(owner, &renamed, 30).await.unwrap());
        let found = db.store.find_draft(owner, "d1").await.unwrap().unwrap();
        assert_eq!((found.name.as_str(), found.updated_at), ("Weather stations", 30));
        assert!(!db.store.delete_draft(other, "d1").await.unwrap());
        assert!(db.store.delete_draft(owner, "d1").await.unwrap());
        assert_eq!(db.store.draft_count(owner).await.unwrap(), 1);
    }

    pub async fn product_metadata_is_kept_per_product_and_owner_and_found_by_category(db: &Db) {
        let (owner, next_owner) = (Address::repeat_byte(1), Address::repeat_byte(2));
        let product = B256::repeat_byte(7);
        let said = |category| ProductMetadata { category, ..ProductMetadata::default() };
        db.store.save_metadata(product, owner, &said(Some(Category::Transport)), 10).await.unwrap();
        db.store.save_metadata(product, owner, &said(Some(Category::Environment)), 20).await.unwrap();
        db.store.save_metadata(product, next_owner, &said(Some(Category::Health)), 30).await.unwrap();
        let unfiled = B256::repeat_byte(8);
        db.store.save_metadata(unfiled, owner, &said(None), 40).await.unwrap();

        assert_eq!(db.store.product_metadata(product, owner).await.unwrap(), Some(said(Some(Category::Environment))));
        assert_eq!(db.store.product_metadata(product, next_owner).await.unwrap(), Some(said(Some(Category::Health))));
        assert_eq!(db.store.product_metadata(unfiled, owner).await.unwrap(), Some(said(None)));
        let whole = ProductMetadata {
            description: "Readings".into(),
            category: Some(Category::Energy),
            cover: String::new(),
            licence: Some(Licence::Own),
            terms: "Research only.".into(),
            contact: "data@example.org".into(),
        };
        let third = Address::repeat_byte(3);
        db.store.save_metadata(B256::repeat_byte(10), third, &whole, 50).await.unwrap();
        assert_eq!(db.store.product_metadata(B256::repeat_byte(10), third).await.unwrap(), Some(whole));
        // A page of products in one question: each as its asked-for owner said, none for the unsaid.
        let page = [(product, owner), (unfiled, owner), (B256::repeat_byte(9), owner), (unfiled, next_owner)];
        let found = db.store.products_metadata(&page).await.unwrap();
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[&(product, owner)], said(Some(Category::Environment)));
        assert_eq!(found[&(unfiled, owner)], said(None));
        assert!(db.store.products_metadata(&[]).await.unwrap().is_empty());
        assert_eq!(db.store.products_in_category(Category::Environment).await.unwrap(), vec![(product, owner)]);
        assert!(db.store.products_in_category(Category::Transport).await.unwrap().is_empty(), "replaced");
        assert_eq!(db.store.metadata_count(owner, product).await.unwrap(), (2, true));
        assert_eq!(db.store.metadata_count(owner, B256::ZERO).await.unwrap(), (2, false));
    }

    pub async fn products_are_found_by_words_in_their_description_without_case(db: &Db) {
        let (owner, next_owner) = (Address::repeat_byte(1), Address::repeat_byte(2));
        let described = |text: &str| ProductMetadata { description: text.to_owned(), ..ProductMetadata::default() };
        let (weather, traffic, odd) = (B256::repeat_byte(7), B256::repeat_byte(8), B256::repeat_byte(9));
        db.store.save_metadata(weather, owner, &described("Wind and RAIN from Kaisaniemi"), 10).await.unwrap();
        db.store
            .save_metadata(traffic, owner, &described("Cars per minute per station, rain or shine"), 10)
            .await
            .unwrap();
        db.store.save_metadata(traffic, next_owner, &described("Cars and bikes"), 20).await.unwrap();
        db.store.save_metadata(odd, owner, &described("100% of readings, per_station"), 10).await.unwrap();
        let found = |text: &'static str| async move {
            let mut found = db.store.products_describing(text).await.unwrap();
            found.sort();
            found
        };

        assert_eq!(found("rain").await, vec![(weather, owner), (traffic, owner)]);
        assert_eq!(found("kaisaniemi").await, vec![(weather, owner)]);
        // Each owner's words are theirs: the caller keeps the pair whose owner owns the product now.
        assert_eq!(found("bikes").await, vec![(traffic, next_owner)]);
        // `%`, `_` and a backslash are text, not patterns.
        assert_eq!(found("100%").await, vec![(odd, owner)]);
        assert_eq!(found("%").await, vec![(odd, owner)]);
        assert_eq!(found("per_station").await, vec![(odd, owner)]);
        assert_eq!(found("_").await, vec![(odd, owner)]);
        assert!(found("\\").await.is_empty());
        assert!(found("snow").await.is_empty());
    }

    pub async fn only_old_covers_that_no_draft_and_no_product_names_are_deleted(db: &Db) {
        let seller = Address::repeat_byte(1);
        for (name, at) in
            [("oldunused.png", 10), ("olddrafted.png", 10), ("olddescribed.png", 10), ("newunused.png", 900)]
        {
            db.store.insert_cover(name, b"image", seller, at).await.unwrap();
        }
        // The same image again is stored once.
        db.store.insert_cover("oldunused.png", b"image", seller, 11).await.unwrap();
        let draft = Draft { id: "d1".into(), cover: "olddrafted.png".into(), ..Draft::default() };
        db.store.insert_draft(seller, &draft, 10).await.unwrap();
        let metadata = ProductMetadata { cover: "olddescribed.png".into(), ..ProductMetadata::default() };
        db.store.save_metadata(B256::repeat_byte(2), seller, &metadata, 10).await.unwrap();
        assert_eq!(db.store.covers_uploaded_since(seller, 0).await.unwrap(), 4);
        assert_eq!(db.store.covers_uploaded_since(seller, 100).await.unwrap(), 1);

        assert_eq!(db.store.delete_unused_covers(500).await.unwrap(), 1);

        assert_eq!(db.store.cover("oldunused.png").await.unwrap(), None);
        for kept in ["olddrafted.png", "olddescribed.png", "newunused.png"] {
            assert_eq!(db.store.cover(kept).await.unwrap().as_deref(), Some(b"image".as_slice()), "{kept}");
        }
    }

    pub async fn a_sign_in_nonce_is_good_for_one_use_before_it_expires(db: &Db) {
        db.store.issue_nonce("fresh0001", 1_100, 1_000).await.unwrap();
        db.store.issue_nonce("stale0001", 1_050, 1_000).await.unwrap();

        assert_eq!(db.store.use_nonce("fresh0001", 1_060).await.unwrap(), NonceUse::Fresh);
        assert_eq!(db.store.use_nonce("fresh0001", 1_061).await.unwrap(), NonceUse::AlreadyUsed);
        assert_eq!(db.store.use_nonce("stale0001", 1_060).await.unwrap(), NonceUse::Expired);
        assert_eq!(db.store.use_nonce("never0001", 1_060).await.unwrap(), NonceUse::Unknown);
    }

    pub async fn a_session_is_saved_loaded_and_deleted_and_an_expired_one_is_not_loaded(db: &Db) {
        // The store keeps whole seconds.
        let in_an_hour =
            OffsetDateTime::from_unix_timestamp(OffsetDateTime::now_utc().unix_timestamp() + 3_600).unwrap();
        let mut record = Record {
            id: Id::default(),
            data: [("signed_in".to_owned(), json!({ "address": "0x01", "chainId": 1 }))].into(),
            expiry_date: in_an_hour,
        };
        db.store.create(&mut record).await.unwrap();
        assert_eq!(db.store.load(&record.id).await.unwrap(), Some(record.clone()));

        record.expiry_date = OffsetDateTime::now_utc() - Duration::seconds(1);
        db.store.save(&record).await.unwrap();
        assert_eq!(db.store.load(&record.id).await.unwrap(), None);

        db.store.delete(&record.id).await.unwrap();
        assert_eq!(db.store.load(&record.id).await.unwrap(), None);
    }
}

/// A TCP proxy to the database that can go silent without closing anything, as the network does
/// when a host dies.
struct SilentProxy {
    port: u16,
    silent: Arc<AtomicBool>,
}

impl SilentProxy {
    async fn start(upstream: SocketAddr) -> SilentProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let silent = Arc::new(AtomicBool::new(false));
        let flag = silent.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let server = tokio::net::TcpStream::connect(upstream).await.unwrap();
                let (client_read, client_write) = client.into_split();
                let (server_read, server_write) = server.into_split();
                tokio::spawn(pipe(client_read, server_write, flag.clone()));
                tokio::spawn(pipe(server_read, client_write, flag.clone()));
            }
        });
        SilentProxy { port, silent }
    }
}

/// Copies `from` to `to`, holding every byte back while `silent` is set.
async fn pipe(mut from: impl AsyncRead + Unpin, mut to: impl AsyncWrite + Unpin, silent: Arc<AtomicBool>) {
    let mut buffer = vec![0u8; 16 * 1024];
    while let Ok(read @ 1..) = from.read(&mut buffer).await {
        while silent.load(Ordering::SeqCst) {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        if to.write_all(&buffer[..read]).await.is_err() {
            return;
        }
    }
}

#[tokio::test]
async fn a_leader_cut_off_from_the_database_counts_its_role_lost_in_bounded_time() {
    let Some(database) = test_database::TestDatabase::create("coop_lease").await else { return };
    let url = url::Url::parse(&database.url).unwrap();
    let upstream = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432));
    let proxy = SilentProxy::start(upstream.parse().unwrap()).await;
    let mut through_proxy = url.clone();
    through_proxy.set_port(Some(proxy.port)).unwrap();
    let store = Store::open(through_proxy.as_str()).await.unwrap();
    let mut lease = store.try_lead().await.unwrap().expect("nobody else leads");
    assert!(lease.is_held().await);

    proxy.silent.store(true, Ordering::SeqCst);
    let check = tokio::time::timeout(CHECK_TIMEOUT * 3, lease.is_held()).await;

    assert_eq!(check, Ok(false), "the check gave up and counted the role lost");
    proxy.silent.store(false, Ordering::SeqCst);
    drop(lease);
    store.close().await;
    database.drop().await;
}

/// Cases of the remaining tables: books, leadership, join transitions, secrets, removals.
mod more_cases {
    use super::*;

    pub async fn a_committed_book_is_kept_per_union_and_block_and_a_resent_one_replaces_it(db: &Db) {
        let book = |n: u8| StoredBook { root: hash(n), book_hash: hash(n + 1), canonical_json: format!("[{n}]") };
        db.store.save_book(DU, 5, &book(1)).await.unwrap();
        db.store.save_book(DU, 6, &book(3)).await.unwrap();
        assert_eq!(db.store.book(DU, 5).await.unwrap(), Some(book(1)));
        assert_eq!(db.store.book(Address::repeat_byte(0xd1), 5).await.unwrap(), None, "another union's");
        assert_eq!(db.store.book(DU, 7).await.unwrap(), None);

        db.store.save_book(DU, 5, &book(9)).await.unwrap();

        assert_eq!(db.store.book(DU, 5).await.unwrap(), Some(book(9)));
        assert_eq!(db.store.book(DU, 6).await.unwrap(), Some(book(3)));
    }

    pub async fn one_lease_at_a_time_holds_the_chain_role_and_dropping_it_frees_the_role(db: &Db) {
        let mut lease = db.store.try_lead().await.unwrap().expect("nobody holds the role");
        assert!(lease.is_held().await);
        if db.url.starts_with("postgres") {
            // A second instance on the same database.
            let other = Store::open(&db.url).await.unwrap();
            assert!(other.try_lead().await.unwrap().is_none(), "the role is held");
            drop(lease);
            let mut taken = None;
            for _ in 0..50 {
                taken = other.try_lead().await.unwrap();
                if taken.is_some() {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            assert!(taken.is_some(), "a dropped lease frees the role");
            drop(taken);
            other.close().await;
        }
    }

    pub async fn a_join_request_moves_only_along_its_transitions_and_a_sent_one_can_go_back(db: &Db) {
        let member = Address::repeat_byte(1);
        let filed = db.store.file_join_request(DU, member, JoinState::Pending, 10, "0x00", None, false, 100);
        assert!(matches!(filed.await.unwrap(), Filed::Stored(_)));
        let status = || async { db.store.join_request(DU, member).await.unwrap().unwrap().status };

        assert!(!db.store.move_join_request(DU, member, &[JoinState::Sent], JoinState::Joined, 101).await.unwrap());
        assert_eq!(status().await, JoinState::Pending, "a refused move changes nothing");
        assert!(db.store.move_join_request(DU, member, JoinState::APPROVABLE, JoinState::Approved, 102).await.unwrap());
        assert!(db.store.move_join_request(DU, member, &[JoinState::Approved], JoinState::Sent, 103).await.unwrap());
        db.store.mark_sent(DU, member, 42).await.unwrap();
        let sent = db.store.join_request(DU, member).await.unwrap().unwrap();
        assert_eq!((sent.status, sent.sent_block, sent.updated_at), (JoinState::Sent, Some(42), 103));
        assert_eq!(db.store.join_requests_with_status(JoinState::Sent).await.unwrap().len(), 1);

        assert!(db.store.unsend(DU, member, 104).await.unwrap());

        let back = db.store.join_request(DU, member).await.unwrap().unwrap();
        assert_eq!((back.status, back.sent_block), (JoinState::Approved, None));
        assert!(!db.store.unsend(DU, member, 105).await.unwrap(), "only a sent request goes back");
    }

    pub async fn a_secret_is_found_by_its_hash_in_its_own_union_only_and_revoked_by_id(db: &Db) {
        let other_union = Address::repeat_byte(0xd1);
        let secret = db.store.add_join_secret(DU, "s1", "Newsletter", hash(7), 100).await.unwrap();
        assert_eq!((secret.id.as_str(), secret.name.as_str(), secret.created_at), ("s1", "Newsletter", 100));
        db.store.add_join_secret(DU, "s2", "Flyer", hash(8), 101).await.unwrap();

        assert_eq!(db.store.find_join_secret(DU, hash(7)).await.unwrap().as_deref(), Some("s1"));
        assert_eq!(db.store.find_join_secret(other_union, hash(7)).await.unwrap(), None);
        let names: Vec<String> = db.store.join_secrets(DU).await.unwrap().into_iter().map(|s| s.name).collect();
        assert_eq!(names.len(), 2);
        assert!(!db.store.delete_join_secret(other_union, "s1").await.unwrap(), "not that union's");
        assert!(db.store.delete_join_secret(DU, "s1").await.unwrap());
        assert_eq!(db.store.find_join_secret(DU, hash(7)).await.unwrap(), None);
        assert!(!db.store.delete_join_secret(DU, "s1").await.unwrap());
    }

    pub async fn a_removal_waits_once_per_member_until_the_agent_forgets_it(db: &Db) {
        let (first, second) = (Address::repeat_byte(1), Address::repeat_byte(2));
        db.store.request_part(DU, first, 100).await.unwrap();
        db.store.request_part(DU, first, 101).await.unwrap();
        db.store.request_part(DU, second, 102).await.unwrap();

        let mut waiting = db.store.part_requests().await.unwrap();
        waiting.sort();
        assert_eq!(waiting, vec![(DU, first), (DU, second)], "asked twice, waiting once");
        db.store.forget_part_request(DU, first).await.unwrap();
        assert_eq!(db.store.part_requests().await.unwrap(), vec![(DU, second)]);
    }

    pub async fn stream_definitions_are_per_product_and_a_saved_one_replaces_the_last(db: &Db) {
        let definition = |name: &str, preview: u32| coop::stream::StreamDefinition {
            product: hash(1),
            name: name.parse().unwrap(),
            description: format!("about {name}"),
            example: (preview > 0).then(|| "{\"a\":1}".parse().unwrap()),
            retention_days: 30,
            // Past 2^32: the column holds 64 bits.
            retention_bytes: 5_000_000_000 * u64::from(preview),
            public_preview: preview,
        };
        db.store.save_stream_definition(&definition("gps", 0), 100).await.unwrap();
        db.store.save_stream_definition(&definition("acc", 5), 100).await.unwrap();
        db.store.save_stream_definition(&definition("gps", 3), 200).await.unwrap();
        let kept = db.store.stream_definitions(&hash(1)).await.unwrap();
        assert_eq!(kept, vec![definition("acc", 5), definition("gps", 3)], "by name, the last save of each");
        assert_eq!(db.store.stream_definitions(&hash(2)).await.unwrap(), vec![], "another product's");
        assert!(db.store.delete_stream_definition(&hash(1), "gps").await.unwrap());
        assert!(!db.store.delete_stream_definition(&hash(1), "gps").await.unwrap(), "already gone");
        assert_eq!(db.store.stream_definitions(&hash(1)).await.unwrap(), vec![definition("acc", 5)]);
    }

    pub async fn an_app_key_stands_until_revoked_and_a_new_grant_restores_it(db: &Db) {
        let (member, key) = (Address::repeat_byte(0xaa), Address::repeat_byte(0xbb));
        let app_key = |expires: u64, created_at: u64| coop::stream::AppKey {
            grant: coop::stream::AppKeyGrant { key, publisher: member, union: DU, chain_id: 31337, expires },
            signature: alloy::primitives::Bytes::from(vec![1u8; 65]),
            created_at,
            revoked_at: None,
        };
        db.store.save_app_key(&app_key(2_000, 100)).await.unwrap();
        assert_eq!(db.store.app_key(key, member, DU).await.unwrap(), Some(app_key(2_000, 100)));
        assert_eq!(db.store.app_key(key, Address::repeat_byte(0xcc), DU).await.unwrap(), None, "another member's");
        assert_eq!(db.store.revoke_app_key(key, member, 500).await.unwrap(), 1);
        assert_eq!(db.store.revoke_app_key(key, member, 600).await.unwrap(), 0, "already revoked");
        let revoked = db.store.app_key(key, member, DU).await.unwrap().unwrap();
        assert_eq!(revoked.revoked_at, Some(500));
        assert!(!revoked.stands_at(400), "revoked is revoked, whatever the time");
        db.store.save_app_key(&app_key(3_000, 700)).await.unwrap();
        let granted_again = db.store.app_key(key, member, DU).await.unwrap().unwrap();
        assert_eq!(granted_again, app_key(3_000, 700));
        assert!(granted_again.stands_at(2_999) && !granted_again.stands_at(3_000));
        assert_eq!(db.store.app_keys(member).await.unwrap(), vec![app_key(3_000, 700)]);
    }

    pub async fn contributions_add_up_per_union_day_and_publisher(db: &Db) {
        let (a, b, c) = (Address::repeat_byte(0xa1), Address::repeat_byte(0xb2), Address::repeat_byte(0xc3));
        let other_union = Address::repeat_byte(0xee);
        let count = |union, day, publisher, messages| Contribution { union, day, publisher, messages };
        db.store.count_contributions(&[count(DU, 100, a, 3), count(DU, 100, b, 1)]).await.unwrap();
        db.store.count_contributions(&[count(DU, 100, a, 2)]).await.unwrap();
        db.store.count_contributions(&[count(DU, 102, b, 7), count(DU, 102, c, 1)]).await.unwrap();
        db.store.count_contributions(&[count(DU, 90, c, 50), count(other_union, 100, a, 1000)]).await.unwrap();

        let days = db.store.contributions_by_day(DU, 95).await.unwrap();
        assert_eq!(days, [(100, 6, 2), (102, 8, 2)], "day, messages, publishers; day 90 is before 95");
        let top = db.store.top_contributors(DU, 95, 10).await.unwrap();
        assert_eq!(top, [(b, 8), (a, 5), (c, 1)], "most first; another union's are not counted");
        assert_eq!(db.store.top_contributors(DU, 0, 1).await.unwrap(), [(c, 51)]);
        assert_eq!(db.store.contributions_by_day(other_union, 101).await.unwrap(), []);
    }
}
