//! Data Unions through the API: stats, history, members, figures, books and proofs, after real
//! transactions on anvil.

use alloy::primitives::{Address, B256, U256, keccak256};
use serde_json::Value;

use crate::chain::{AGENT, MEMBER, OPERATOR, OTHER, OWNER, send};
use crate::helpers::{TestApp, spawn_app_with_contracts};

/// 10 % in the contract's 1e18 scale.
fn ten_percent() -> U256 {
    U256::from(10u64).pow(U256::from(17))
}

fn amount(value: &Value) -> U256 {
    value.as_str().unwrap_or_else(|| panic!("{value} is not a decimal string")).parse().unwrap()
}

fn lower(address: Address) -> String {
    format!("{address:#x}")
}

/// A DU owned by OWNER with `members` added by the agent.
async fn union_with(app: &TestApp, admin_fee: U256, freeze: u64, members: &[Address]) -> Address {
    let chain = app.chain();
    let du = chain.create_data_union(admin_fee, freeze).await;
    send(chain.du(du, AGENT).addMembers(members.to_vec())).await;
    du
}

#[tokio::test]
async fn revenue_paid_into_a_union_is_split_exactly_and_shown_in_its_stats_and_history() {
    let app = spawn_app_with_contracts().await;
    let chain = app.chain();
    let members = [chain.address(MEMBER), chain.address(OTHER), Address::repeat_byte(0x77)];
    let du = union_with(&app, ten_percent(), 3600, &members).await;

    // fee 100, 901 shared by three: 300 each and 1 carried; then fee 200, 1801 shared: 600 each, 1 carried.
    chain.mint_data(du, U256::from(1001u64)).await;
    chain.mint_data(du, U256::from(2000u64)).await;
    app.caught_up().await;

    let list = app.ok("/api/v1/unions").await;
    assert_eq!(list["total"], 1);
    let summary = &list["unions"][0];
    assert_eq!(summary["address"].as_str().unwrap().to_lowercase(), lower(du));
    assert_eq!(summary["owner"].as_str().unwrap().to_lowercase(), lower(chain.address(OWNER)));
    assert_eq!(summary["adminFee"], "100000000000000000");
    assert_eq!(summary["adminFeePercent"], "10");
    assert_eq!((summary["activeMembers"].as_u64(), summary["totalMembers"].as_u64()), (Some(3), Some(3)));
    assert_eq!(summary["totalRevenue"], "3001");
    assert_eq!(summary["latestCommit"], Value::Null);
    assert_eq!(summary["freezePeriod"], 3600);

    let stats = app.ok(&format!("/api/v1/unions/{du}")).await;
    assert_eq!(stats["totals"]["revenue"], "3001");
    assert_eq!(stats["totals"]["adminFees"], "300");
    assert_eq!(stats["totals"]["memberShares"], "2700");
    assert_eq!(stats["totals"]["ownerWithoutMembers"], "0");
    assert_eq!(stats["carry"], "1");
    assert_eq!(stats["averageRevenuePerMember"], "900");
    assert_eq!(stats["totalWithdrawn"], "0");
    assert_eq!(stats["leafCount"], 4, "the owner's leaf and three members");
    assert_eq!(stats["commits"], Value::Array(vec![]));

    for member in members {
        let figures = app.ok(&format!("/api/v1/unions/{du}/members/{member}")).await;
        assert_eq!((amount(&figures["earnings"]), amount(&figures["committed"])), (U256::from(900), U256::ZERO));
        assert_eq!(figures["proof"], Value::Null);
    }
    let owner = app.ok(&format!("/api/v1/unions/{du}/members/{}", chain.address(OWNER))).await;
    assert_eq!((owner["earnings"].as_str(), owner["firstJoinedBlock"].as_u64()), (Some("300"), None));

    let history = app.ok(&format!("/api/v1/unions/{du}/history")).await;
    let points = history["points"].as_array().unwrap();
    let last = points.last().unwrap();
    assert_eq!((last["revenue"].as_str(), last["activeMembers"].as_u64()), (Some("3001"), Some(3)));
    let revenues: Vec<&str> = points.iter().map(|p| p["revenue"].as_str().unwrap()).collect();
    assert_eq!(revenues, ["0", "0", "1001", "3001"], "creation, joins, then each revenue");
}

#[tokio::test]
async fn members_are_paged_in_leaf_order_and_a_parted_member_is_still_listed_with_its_earnings() {
    let app = spawn_app_with_contracts().await;
    let chain = app.chain();
    let members: Vec<Address> = (1..=5u8).map(|i| Address::repeat_byte(i * 0x11)).collect();
    let du = union_with(&app, U256::ZERO, 0, &members).await;
    chain.mint_data(du, U256::from(500u64)).await;
    let parted = members[1];
    send(chain.du(du, AGENT).partMembers(vec![parted])).await;
    chain.mint_data(du, U256::from(400u64)).await;
    app.caught_up().await;

    let first = app.ok(&format!("/api/v1/unions/{du}/members?limit=2")).await;
    let last = app.ok(&format!("/api/v1/unions/{du}/members?offset=4&limit=2")).await;
    let parted_only = app.ok(&format!("/api/v1/unions/{du}/members?status=parted")).await;
    let active = app.ok(&format!("/api/v1/unions/{du}/members?status=active&limit=1000")).await;
    let searched = app.ok(&format!("/api/v1/unions/{du}/members?search=0x2222")).await;
    let figures = app.ok(&format!("/api/v1/unions/{du}/members/{parted}")).await;

    assert_eq!(
        (first["total"].as_u64(), first["offset"].as_u64(), first["limit"].as_u64()),
        (Some(5), Some(0), Some(2))
    );
    let page: Vec<(u64, String)> = first["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["leafIndex"].as_u64().unwrap(), m["address"].as_str().unwrap().to_lowercase()))
        .collect();
    assert_eq!(page, [(1, lower(members[0])), (2, lower(members[1]))], "leaf 0 is the owner's, not a member");
    assert_eq!(last["members"].as_array().unwrap().len(), 1);
    assert_eq!(last["members"][0]["leafIndex"], 5);

    assert_eq!(parted_only["total"], 1);
    let listed = &parted_only["members"][0];
    assert_eq!(listed["address"].as_str().unwrap().to_lowercase(), lower(parted));
    assert_eq!((listed["status"].as_str(), listed["active"].as_bool()), (Some("parted"), Some(false)));
    assert_eq!(listed["earnings"], "100");
    assert_eq!(listed["withdrawn"], "0");
    assert!(listed["firstJoinedBlock"].as_u64().unwrap() > 0);

    assert_eq!(active["total"], 4);
    assert!(active["members"].as_array().unwrap().iter().all(|m| m["earnings"] == "200" && m["active"] == true));
    assert_eq!(searched["total"], 1);
    assert_eq!(searched["members"][0]["address"].as_str().unwrap().to_lowercase(), lower(parted));

    assert_eq!((figures["earnings"].as_str(), figures["active"].as_bool()), (Some("100"), Some(false)));
}

/// The `book` field of a book answer, byte for byte: the last field of the body.
fn canonical_book(body: &str) -> &str {
    let start = body.find(",\"book\":").expect("a book field") + ",\"book\":".len();
    &body[start..body.len() - 1]
}

#[tokio::test]
async fn a_member_gets_the_proof_of_the_unfrozen_commit_and_withdraws_exactly_its_share_with_it() {
    let app = spawn_app_with_contracts().await;
    let chain = app.chain();
    let (member, parted) = (chain.address(MEMBER), chain.address(OTHER));
    let du = union_with(&app, U256::ZERO, 100, &[member, parted]).await;
    chain.mint_data(du, U256::from(1001u64)).await;
    send(chain.du(du, AGENT).partMembers(vec![parted])).await;
    app.caught_up().await;
    let book_block = chain.block_number().await;

    // The operator commits the book the API serves.
    let response = app.client.get(app.url(&format!("/api/v1/unions/{du}/books/{book_block}"))).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    let served: Value = serde_json::from_str(&text).unwrap();
    let (root, book_hash): (B256, B256) =
        (served["root"].as_str().unwrap().parse().unwrap(), served["bookHash"].as_str().unwrap().parse().unwrap());
    assert_eq!(keccak256(canonical_book(&text)), book_hash, "bookHash is the hash of the served canonical book");
    assert_eq!(served["commit"], Value::Null);
    assert_eq!(served["book"]["leaves"][1]["earnings"], "500");
    let hash = chain.block_hash(book_block).await;
    send(chain.du(du, OPERATOR).commit(U256::from(book_block), hash, root, book_hash)).await;
    app.caught_up().await;

    let frozen = app.ok(&format!("/api/v1/unions/{du}/members/{member}")).await;
    assert_eq!(
        [&frozen["committed"], &frozen["frozen"], &frozen["withdrawable"]].map(|v| v.as_str().unwrap()),
        ["500", "500", "0"]
    );
    assert_eq!(frozen["proof"], Value::Null);
    let committed = app.ok(&format!("/api/v1/unions/{du}/books/{book_block}")).await;
    assert_eq!(committed["commit"]["matches"], true);

    chain.advance_time(101).await;
    app.caught_up().await;
    let unfrozen = app.ok(&format!("/api/v1/unions/{du}/members/{member}")).await;
    let parted_figures = app.ok(&format!("/api/v1/unions/{du}/members/{parted}")).await;

    assert_eq!([&unfrozen["withdrawable"], &unfrozen["frozen"]].map(|v| v.as_str().unwrap()), ["500", "0"]);
    assert!(unfrozen["chainTime"].as_u64().unwrap() >= chain.timestamp().await);
    let proof = &unfrozen["proof"];
    assert_eq!((proof["block"].as_u64(), proof["earnings"].as_str()), (Some(book_block), Some("500")));
    assert_eq!(
        (parted_figures["withdrawable"].as_str(), parted_figures["active"].as_bool()),
        (Some("500"), Some(false))
    );
    assert!(parted_figures["proof"]["proof"].is_array());

    let before = chain.data_balance(member).await;
    let siblings: Vec<B256> =
        proof["proof"].as_array().unwrap().iter().map(|h| h.as_str().unwrap().parse().unwrap()).collect();
    send(chain.du(du, MEMBER).withdrawAll(U256::from(book_block), amount(&proof["earnings"]), siblings)).await;
    assert_eq!(chain.data_balance(member).await - before, U256::from(500u64));

    app.caught_up().await;
    let after = app.ok(&format!("/api/v1/unions/{du}/members/{member}")).await;
    assert_eq!([&after["withdrawn"], &after["withdrawable"]].map(|v| v.as_str().unwrap()), ["500", "0"]);
    assert_eq!(app.ok(&format!("/api/v1/unions/{du}")).await["totalWithdrawn"], "500");
}

#[tokio::test]
async fn a_hostile_operators_commits_give_members_their_figures_not_a_500_nor_hide_a_good_commit() {
    let app = spawn_app_with_contracts().await;
    let chain = app.chain();
    let member = chain.address(MEMBER);
    let du = union_with(&app, U256::ZERO, 0, &[member]).await;
    let other = union_with(&app, U256::ZERO, 0, &[member]).await;
    chain.mint_data(du, U256::from(90u64)).await;
    chain.mint_data(other, U256::from(40u64)).await;
    let figures_of = |union: Address| {
        let app = &app;
        async move {
            let figures = app.ok(&format!("/api/v1/unions/{union}/members/{member}")).await;
            [&figures["earnings"], &figures["committed"], &figures["withdrawable"]].map(amount)
        }
    };

    // The book of a block before the union existed.
    let first = chain.block_hash(1).await;
    send(chain.du(du, OPERATOR).commit(U256::from(1u64), first, B256::repeat_byte(7), B256::repeat_byte(7))).await;
    app.caught_up().await;
    assert_eq!(figures_of(du).await, [90, 0, 0].map(U256::from));
    let before = app.get(&format!("/api/v1/unions/{du}/books/1")).await;
    assert_eq!(before.status, 404, "{}", before.body);

    // A good commit, then one whose root matches no book: members keep the good one.
    let good = chain.block_number().await;
    let book = app.ok(&format!("/api/v1/unions/{du}/books/{good}")).await;
    let (root, hash): (B256, B256) =
        (book["root"].as_str().unwrap().parse().unwrap(), book["bookHash"].as_str().unwrap().parse().unwrap());
    send(chain.du(du, OPERATOR).commit(U256::from(good), chain.block_hash(good).await, root, hash)).await;
    let bogus = chain.block_number().await;
    let bogus_hash = chain.block_hash(bogus).await;
    send(chain.du(du, OPERATOR).commit(U256::from(bogus), bogus_hash, B256::repeat_byte(8), B256::repeat_byte(8)))
        .await;
    chain.advance_time(1).await;
    app.caught_up().await;

    assert_eq!(figures_of(du).await, [90, 90, 90].map(U256::from));
    let figures = app.ok(&format!("/api/v1/unions/{du}/members/{member}")).await;
    assert_eq!(figures["proof"]["block"].as_u64(), Some(good));
    assert_eq!(figures_of(other).await, [40, 0, 0].map(U256::from));
    assert_eq!(app.ok(&format!("/api/v1/unions/{du}")).await["commits"].as_array().unwrap().len(), 3);
    assert_eq!(app.ok("/api/v1/validation").await["mismatches"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn every_answer_says_the_block_it_is_as_of_in_a_header_and_a_field() {
    let app = spawn_app_with_contracts().await;
    let chain = app.chain();
    let member = chain.address(MEMBER);
    let du = union_with(&app, U256::ZERO, 0, &[member]).await;
    chain.mint_data(du, U256::from(10u64)).await;
    app.caught_up().await;
    let head = chain.block_number().await;

    for path in [
        "/api/v1/unions".to_owned(),
        format!("/api/v1/unions/{du}"),
        format!("/api/v1/unions/{du}/history"),
        format!("/api/v1/unions/{du}/members"),
        format!("/api/v1/unions/{du}/members/{member}"),
        format!("/api/v1/unions/{du}/books/{head}"),
        "/api/v1/products".to_owned(),
        format!("/api/v1/subscriptions?subscriber={member}"),
    ] {
        let reply = app.get(&path).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
        assert_eq!(reply.as_of_header(), head, "{path}");
        assert_eq!(reply.body["asOfBlock"].as_u64(), Some(head), "{path}");
    }
}

/// The value of the dashboard's tile `label`, as rendered.
fn tile(page: &str, label: &str) -> String {
    let start = page.find(&format!("data-tile=\"{label}\"")).unwrap_or_else(|| panic!("no tile {label}:\n{page}"));
    let value = &page[start..];
    value[value.find('>').unwrap() + 1..value.find("</dd>").unwrap()].to_owned()
}

/// The page at `path`, as a visitor (`None`) or with a session cookie.
async fn page(app: &TestApp, path: &str, cookie: Option<&str>) -> String {
    // As a browser asks: a signed-in page reads its session only for `text/html`.
    let mut request = app.client.get(app.url(path)).header(reqwest::header::ACCEPT, "text/html");
    if let Some(cookie) = cookie {
        request = request.header(reqwest::header::COOKIE, cookie);
    }
    request.send().await.unwrap().text().await.unwrap()
}

/// `coop_shared_pages_total{outcome}` now.
async fn shared_pages(app: &TestApp, outcome: &str) -> u64 {
    let text = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    let sample = format!("coop_shared_pages_total{{outcome=\"{outcome}\"}} ");
    text.lines().find_map(|line| line.strip_prefix(&sample)).unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_dashboard_is_rendered_once_per_state_for_visitors_and_for_each_signed_in_owner() {
    let app = spawn_app_with_contracts().await;
    let chain = app.chain();
    let du = union_with(&app, ten_percent(), 0, &[chain.address(MEMBER)]).await;
    app.caught_up().await;
    let path = format!("/unions/{du}");

    let first = page(&app, &path, None).await;
    let again = page(&app, &path, None).await;
    assert_eq!(tile(&first, "Active members"), "1");
    assert_eq!(first, again);
    let counts = (shared_pages(&app, "rendered").await, shared_pages(&app, "sent_again").await);
    assert_eq!(counts, (1, 1), "the second visitor got the first one's page");

    // Right after, the owner signed in gets its own tools, not the page a visitor was sent.
    let owner = crate::story::signed_in(&app, &chain.signer(OWNER)).await;
    let own = page(&app, &path, Some(&owner)).await;
    assert!(own.contains("id=\"requests-heading\"") && !own.contains("are for the owner of this Data Union"));
    assert!(first.contains("are for the owner of this Data Union") && !first.contains("id=\"requests-heading\""));

    // Once the models move, visitors get the new state.
    send(chain.du(du, AGENT).addMembers(vec![chain.address(OTHER)])).await;
    app.caught_up().await;
    assert_eq!(tile(&page(&app, &path, None).await, "Active members"), "2");
}

#[tokio::test]
async fn an_announced_operator_is_shown_to_the_members_and_in_the_union_until_it_takes_over() {
    let app = spawn_app_with_contracts().await;
    let chain = app.chain();
    let member = chain.address(MEMBER);
    let du = union_with(&app, U256::ZERO, 3600, &[member]).await;

    send(chain.du(du, OWNER).setOperator(chain.address(OTHER))).await;
    let effective_at = chain.timestamp().await + 3600;
    app.caught_up().await;

    let figures = app.ok(&format!("/api/v1/unions/{du}/members/{member}")).await;
    assert_eq!(
        figures["announcedOperator"]["operator"].as_str().unwrap().parse::<Address>().unwrap(),
        chain.address(OTHER)
    );
    assert_eq!(figures["announcedOperator"]["effectiveAt"].as_u64(), Some(effective_at));
    let union = app.ok(&format!("/api/v1/unions/{du}")).await;
    assert_eq!(union["operator"].as_str().unwrap().parse::<Address>().unwrap(), chain.address(OPERATOR));
    assert_eq!(union["announced"][0]["change"], "operator");
    assert_eq!(union["announced"][0]["effectiveAt"].as_u64(), Some(effective_at));

    chain.advance_time(3600).await;
    send(chain.du(du, MEMBER).applyOperatorChange()).await;
    app.caught_up().await;
    let figures = app.ok(&format!("/api/v1/unions/{du}/members/{member}")).await;
    assert_eq!(figures["announcedOperator"], Value::Null);
    let union = app.ok(&format!("/api/v1/unions/{du}")).await;
    assert_eq!(union["operator"].as_str().unwrap().parse::<Address>().unwrap(), chain.address(OTHER));
    assert_eq!(union["announced"], serde_json::json!([]));
}

#[tokio::test]
async fn a_union_moved_from_the_previous_contracts_says_where_from_and_its_members_earnings_include_the_carry() {
    use coop::contracts::{DataUnionFactoryV1, DataUnionV1};
    use coop_server::migrate::{Migration, Progress};

    let app = spawn_app_with_contracts().await;
    let chain = app.chain();
    let members = [chain.address(MEMBER), chain.address(OTHER)];
    let v1_factory =
        DataUnionFactoryV1::deploy(chain.wallet(OWNER), chain.deployment.data_token, U256::ZERO).await.unwrap();
    let created =
        send(v1_factory.createDataUnion(chain.address(OPERATOR), vec![chain.address(AGENT)], U256::ZERO, U256::ZERO))
            .await;
    let old = crate::chain::event::<DataUnionFactoryV1::DataUnionCreated>(&created).du;
    send(DataUnionV1::new(old, chain.wallet(AGENT)).addMembers(members.to_vec())).await;
    chain.mint_data(old, U256::from(1_001u64)).await;
    let next = union_with(&app, U256::ZERO, 0, &members).await;

    let migration = Migration {
        chain: chain.wallet(OWNER),
        owner: chain.address(OWNER),
        previous: old,
        next,
        previous_factory: *v1_factory.address(),
        data_token: chain.deployment.data_token,
        from_block: 0,
        patience: Default::default(),
    };
    // Even a freeze period of 0 ends only in the next second: the chain's clock moves on in between.
    assert!(matches!(migration.run(false, |_| {}).await.unwrap(), Progress::Waiting { .. }));
    chain.advance_time(1).await;
    assert_eq!(migration.run(false, |_| {}).await.unwrap(), Progress::Done);
    app.caught_up().await;

    let union = app.ok(&format!("/api/v1/unions/{next}")).await;
    assert_eq!(union["movedFrom"]["union"].as_str().unwrap().parse::<Address>().unwrap(), old);
    // 1,001 split by two: 500 each carried, the 1 the old engine had not split is revenue here.
    assert_eq!(amount(&union["movedFrom"]["carried"]), U256::from(1_000u64));
    assert_eq!(amount(&union["movedFrom"]["awaitingCarry"]), U256::ZERO);
    assert_eq!(union["movedFrom"]["closed"], true);
    assert_eq!(union["movedTo"], Value::Null);
    let figures = app.ok(&format!("/api/v1/unions/{next}/members/{}", members[0])).await;
    assert_eq!(amount(&figures["earnings"]), U256::from(500u64));
    let dashboard = page(&app, &format!("/unions/{next}"), None).await;
    assert!(dashboard.contains(&format!("data-moved-from=\"{}\"", old.to_checksum(None))), "{dashboard}");

    // A stranger's union naming this one as its predecessor is not where it moved; its owner's is.
    let strangers = chain.create_data_union_as(OTHER, U256::ZERO).await;
    send(chain.du(strangers, OTHER).startMigration(next)).await;
    app.caught_up().await;
    assert_eq!(app.ok(&format!("/api/v1/unions/{next}")).await["movedTo"], Value::Null);
    let successor = chain.create_data_union(U256::ZERO, 0).await;
    send(chain.du(successor, OWNER).startMigration(next)).await;
    app.caught_up().await;
    let moved = app.ok(&format!("/api/v1/unions/{next}")).await;
    assert_eq!(moved["movedTo"].as_str().unwrap().parse::<Address>().unwrap(), successor);
    let dashboard = page(&app, &format!("/unions/{next}"), None).await;
    assert!(dashboard.contains(&format!("data-moved-to=\"{}\"", successor.to_checksum(None))));
}
