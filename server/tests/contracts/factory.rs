//! DataUnionFactory: one transaction creates a DU and announces it.

use alloy::{
    primitives::{Address, U256},
    providers::Provider,
};
use coop::contracts::{
    DataUnion::{self, DataUnionErrors},
    DataUnionFactory::{self, DataUnionFactoryErrors},
};
use coop_server::deploy;

use crate::helpers::*;

#[tokio::test]
async fn creating_a_data_union_announces_it_with_its_settings() {
    let chain = Chain::start().await;
    let fee = U256::from(TOKEN / 10);

    let receipt = send(chain.du_factory(OWNER).createDataUnion(
        chain.address(OPERATOR),
        vec![chain.address(AGENT), chain.address(OTHER)],
        vec![chain.address(BUYER)],
        fee,
        U256::from(60),
    ))
    .await;
    report_gas("DataUnionFactory.createDataUnion", &receipt);

    let created = event::<DataUnionFactory::DataUnionCreated>(&receipt);
    assert_eq!(created.owner, chain.address(OWNER));
    assert_eq!(created.operator, chain.address(OPERATOR));
    assert_eq!((created.adminFee, created.freezePeriod), (fee, U256::from(60)));
    let du = chain.du(created.du, MEMBER);
    assert_eq!(du.owner().call().await.unwrap(), chain.address(OWNER));
    assert_eq!(du.operator().call().await.unwrap(), chain.address(OPERATOR));
    assert_eq!(du.adminFee().call().await.unwrap(), fee);
    assert_eq!(du.freezePeriod().call().await.unwrap(), U256::from(60));
    assert_eq!(du.token().call().await.unwrap(), chain.deployment.data_token);
    assert!(du.isJoinPartAgent(chain.address(AGENT)).call().await.unwrap());
    assert!(du.isJoinPartAgent(chain.address(OTHER)).call().await.unwrap());
    assert!(!du.isJoinPartAgent(chain.address(OWNER)).call().await.unwrap());
    assert!(du.isValidator(chain.address(BUYER)).call().await.unwrap());
    assert!(!du.isValidator(chain.address(OWNER)).call().await.unwrap());
    assert_eq!(
        events::<DataUnion::ValidatorAdded>(&receipt).iter().map(|e| e.validator).collect::<Vec<_>>(),
        vec![chain.address(BUYER)]
    );
    // The DU's own creation logs carry no settings the engine would count twice.
    assert!(events::<DataUnion::AdminFeeChanged>(&receipt).is_empty());
    assert!(events::<DataUnion::OperatorChanged>(&receipt).is_empty());

    // The union is a minimal proxy (EIP-1167) of the factory's implementation.
    let implementation = chain.du_factory(MEMBER).implementation().call().await.unwrap();
    let code = chain.wallet(MEMBER).get_code_at(created.du).await.unwrap();
    assert_eq!(code.len(), 45, "an EIP-1167 proxy");
    assert_eq!(&code[10..30], implementation.as_slice(), "of the implementation");
}

#[tokio::test]
async fn an_admin_fee_above_100_percent_or_no_operator_is_refused_at_creation() {
    let chain = Chain::start().await;
    let factory = chain.du_factory(OWNER);
    let too_high = U256::from(TOKEN) + U256::from(1);

    let error = revert::<DataUnionErrors, _, _>(factory.createDataUnion(
        chain.address(OPERATOR),
        vec![],
        vec![],
        too_high,
        U256::ZERO,
    ))
    .await;
    assert_eq!(error, DataUnionErrors::AdminFeeTooHigh(DataUnion::AdminFeeTooHigh { adminFee: too_high }));

    let error =
        revert::<DataUnionErrors, _, _>(factory.createDataUnion(Address::ZERO, vec![], vec![], U256::ZERO, U256::ZERO))
            .await;
    assert_eq!(error, DataUnionErrors::ZeroAddress(DataUnion::ZeroAddress {}));
    let error = revert::<DataUnionErrors, _, _>(factory.createDataUnion(
        chain.address(OPERATOR),
        vec![],
        vec![Address::ZERO],
        U256::ZERO,
        U256::ZERO,
    ))
    .await;
    assert_eq!(error, DataUnionErrors::ZeroAddress(DataUnion::ZeroAddress {}));
}

#[tokio::test]
async fn a_factory_off_a_dev_chain_refuses_a_freeze_period_under_a_day() {
    let chain = Chain::start().await;
    let minimum = U256::from(deploy::minimum_freeze_period(1));
    let deployer = chain.wallet(DEPLOYER);
    let factory = DataUnionFactory::deploy(deployer, chain.deployment.data_token, minimum).await.unwrap();
    let factory = DataUnionFactory::new(*factory.address(), chain.wallet(OWNER));

    let error = revert::<DataUnionFactoryErrors, _, _>(factory.createDataUnion(
        chain.address(OPERATOR),
        vec![],
        vec![],
        U256::ZERO,
        U256::from(3600),
    ))
    .await;
    assert_eq!(
        error,
        DataUnionFactoryErrors::FreezePeriodTooShort(DataUnionFactory::FreezePeriodTooShort {
            freezePeriod: U256::from(3600),
            minimumFreezePeriod: minimum,
        })
    );
    send(factory.createDataUnion(chain.address(OPERATOR), vec![], vec![], U256::ZERO, minimum)).await;
}

#[tokio::test]
async fn a_union_with_a_freeze_period_beyond_a_year_or_one_no_u64_holds_is_refused() {
    let chain = Chain::start().await;
    let maximum = chain.du_factory(OTHER).implementation().call().await.unwrap();
    let maximum = chain.du(maximum, OTHER).MAX_FREEZE_PERIOD().call().await.unwrap();
    assert_eq!(maximum, U256::from(365 * 86_400u64));

    for freeze_period in [maximum + U256::from(1), U256::from(1u8) << 70, U256::MAX] {
        let error = revert::<DataUnionErrors, _, _>(chain.du_factory(OTHER).createDataUnion(
            chain.address(OPERATOR),
            vec![chain.address(AGENT)],
            vec![],
            U256::ZERO,
            freeze_period,
        ))
        .await;
        assert_eq!(
            error,
            DataUnionErrors::FreezePeriodTooLong(DataUnion::FreezePeriodTooLong {
                freezePeriod: freeze_period,
                maximum
            })
        );
    }
}

#[tokio::test]
async fn anyone_can_deploy_a_union_naming_any_operator_with_the_longest_freeze_period() {
    let chain = Chain::start().await;
    let longest = U256::from(365 * 86_400u64);

    let du = chain.create_data_union_as(OTHER, longest).await;

    let union = chain.du(du, MEMBER);
    assert_eq!(union.owner().call().await.unwrap(), chain.address(OTHER));
    assert_eq!(union.operator().call().await.unwrap(), chain.address(OPERATOR), "a server's key, named by a stranger");
    assert_eq!(union.freezePeriod().call().await.unwrap(), longest);
    assert!(union.isJoinPartAgent(chain.address(AGENT)).call().await.unwrap());
}

#[tokio::test]
async fn neither_the_implementation_nor_a_created_union_can_be_initialized_again() {
    let chain = Chain::start().await;
    let implementation = chain.du_factory(OTHER).implementation().call().await.unwrap();
    let du = chain.create_data_union(U256::ZERO, 0).await;
    let (token, thief) = (chain.deployment.data_token, chain.address(OTHER));

    for target in [implementation, du] {
        let error = revert::<DataUnionErrors, _, _>(chain.du(target, OTHER).initialize(
            token,
            thief,
            thief,
            vec![thief],
            vec![thief],
            U256::ZERO,
            U256::ZERO,
        ))
        .await;
        assert_eq!(error, DataUnionErrors::AlreadyInitialized(DataUnion::AlreadyInitialized {}), "{target}");
    }

    let union = chain.du(du, OTHER);
    assert_eq!(union.owner().call().await.unwrap(), chain.address(OWNER));
    assert_eq!(union.operator().call().await.unwrap(), chain.address(OPERATOR));
    assert!(!union.isJoinPartAgent(thief).call().await.unwrap());
    assert!(!union.isValidator(thief).call().await.unwrap());
    // The implementation holds no union's state: it has no operator and was never given a token.
    let implementation = chain.du(implementation, OTHER);
    assert_eq!(implementation.operator().call().await.unwrap(), Address::ZERO);
    assert_eq!(implementation.token().call().await.unwrap(), Address::ZERO);
}
